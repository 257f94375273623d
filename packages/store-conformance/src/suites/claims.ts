import { InvalidArgumentError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed, expectCompleted, expectOverlap, expectRunShape } from '../outcomes.js';

const ref = { code: 'claim-job', key: '' };

/** claimSlots from one instance: outcomes, run fields, attempts, overlap, pause, batches, validation. */
export function describeClaims(h: StoreHarness): void {
  describe('claims', () => {
    it('a claim returns a running run with the claim fields and a lease', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const slotAt = instantAt(0);
      const now = instantAt(2_500);
      const [outcome] = await h.store.claimSlots([claimFor(ref, slotAt, { leaseMs: 30_000 })], { runnerId: 'runner-a', now });
      const { run, lease } = expectClaimed(outcome);
      expectRunShape(run);
      expect(run).toMatchObject({
        code: ref.code,
        key: ref.key,
        attempt: 1,
        trigger: 'schedule',
        status: 'running',
        runnerId: 'runner-a',
        finishedAt: null,
        durationMs: null,
        error: null,
        stack: null,
      });
      expect(run.slotAt.getTime()).toBe(slotAt.getTime());
      expect(run.startedAt.getTime()).toBe(now.getTime());
      expect(run.leaseExpiresAt?.getTime()).toBe(now.getTime() + 30_000);
      expect(lease).toMatchObject({ code: ref.code, key: ref.key, runId: run.id, token: run.token, runnerId: 'runner-a' });
      expect(lease.expiresAt).toBeInstanceOf(Date);
      expect(lease.expiresAt.getTime()).toBe(now.getTime() + 30_000);
      const stored = await h.store.getRun(run.id);
      expect(stored).toEqual(run);
    });

    it('a slot claimed ahead of its instant starts, and leases from, the instant', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const slotAt = instantAt(60_000);
      const [outcome] = await h.store.claimSlots([claimFor(ref, slotAt, { leaseMs: 10_000 })], { runnerId: 'r', now: instantAt(59_200) });
      const { run, lease } = expectClaimed(outcome);
      expect(run.startedAt.getTime()).toBe(slotAt.getTime());
      expect(run.leaseExpiresAt?.getTime()).toBe(slotAt.getTime() + 10_000);
      expect(lease.expiresAt.getTime()).toBe(slotAt.getTime() + 10_000);
    });

    it('the same slot and attempt is taken on a second claim by another runner, and by anyone after it finished', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const claim = claimFor(ref, instantAt(0), { overlap: 'allowAll' });
      const [first] = await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(0) });
      const { lease } = expectClaimed(first);
      expect(await h.store.claimSlots([claim], { runnerId: 'b', now: instantAt(2) })).toEqual([{ status: 'taken' }]);
      expectCompleted((await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(3) }]))[0]);
      expect(await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(4) })).toEqual([{ status: 'taken' }]);
      expect(await h.store.claimSlots([claim], { runnerId: 'b', now: instantAt(4) })).toEqual([{ status: 'taken' }]);
      const page = await h.store.queryRuns({});
      expect(page.runs).toHaveLength(1);
      const [state] = await h.store.getStates([ref]);
      expect(state?.totalRuns).toBe(1);
    });

    it('attempt 2 of a slot is a separate claim with a new run and a higher token', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const [first] = await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'a', now: instantAt(0) });
      const one = expectClaimed(first);
      expectCompleted((await h.store.completeRuns([{ lease: one.lease, status: 'failed', finishedAt: instantAt(100), error: 'boom' }]))[0]);
      const [second] = await h.store.claimSlots([claimFor(ref, instantAt(0), { attempt: 2, trigger: 'retry' })], {
        runnerId: 'b',
        now: instantAt(200),
      });
      const two = expectClaimed(second);
      expect(two.run.id).not.toBe(one.run.id);
      expect(two.run).toMatchObject({ attempt: 2, trigger: 'retry', runnerId: 'b', status: 'running' });
      expect(two.run.token).toBeGreaterThan(one.run.token);
      expect((await h.store.getRun(one.run.id))?.status).toBe('failed');
    });

    it('fencing tokens strictly increase across the runs of one schedule', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const tokens: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const [outcome] = await h.store.claimSlots([claimFor(ref, instantAt(i * 60_000))], { runnerId: 'a', now: instantAt(i * 60_000) });
        const { run, lease } = expectClaimed(outcome);
        tokens.push(run.token);
        await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(i * 60_000 + 10) }]);
      }
      for (let i = 1; i < tokens.length; i += 1) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    });

    it('a second slot while the first holds a live lease is an overlap, logged once as a skipped run', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const [first] = await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'a', now: instantAt(0) });
      expectClaimed(first);
      const next = claimFor(ref, instantAt(30_000));
      const [outcome] = await h.store.claimSlots([next], { runnerId: 'b', now: instantAt(30_000) });
      const skipped = expectOverlap(outcome);
      expectRunShape(skipped);
      expect(skipped).toMatchObject({ code: ref.code, key: ref.key, status: 'skipped', attempt: 1, runnerId: 'b', leaseExpiresAt: null });
      expect(skipped.slotAt.getTime()).toBe(instantAt(30_000).getTime());
      expect(skipped.finishedAt).toBeInstanceOf(Date);
      expect(typeof skipped.message).toBe('string');
      expect(await h.store.getRun(skipped.id)).toEqual(skipped);
      expect(await h.store.claimSlots([next], { runnerId: 'c', now: instantAt(30_001) })).toEqual([{ status: 'taken' }]);
      const skippedRuns = await h.store.queryRuns({ status: 'skipped' });
      expect(skippedRuns.runs).toHaveLength(1);
      const [state] = await h.store.getStates([ref]);
      expect(state?.totalRuns).toBe(1);
      expect(state?.lastSlotAt?.getTime()).toBe(instantAt(30_000).getTime());
      expect(state?.lastStatus).toBeNull();
    });

    it('a retry attempt while the first attempt still holds its lease is busy: never concurrent, never consumed', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const held = expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'a', now: instantAt(0) }))[0]);
      const retry = claimFor(ref, instantAt(0), { attempt: 2, trigger: 'retry' });
      expect(await h.store.claimSlots([retry], { runnerId: 'b', now: instantAt(10) })).toEqual([{ status: 'busy' }]);
      await h.store.completeRuns([{ lease: held.lease, status: 'failed', finishedAt: instantAt(20) }]);
      expectClaimed((await h.store.claimSlots([retry], { runnerId: 'b', now: instantAt(30) }))[0]);
    });

    it('allowParallel lets a second slot run beside a live lease', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const outcomes = await h.store.claimSlots(
        [claimFor(ref, instantAt(0), { overlap: 'allowAll' }), claimFor(ref, instantAt(1_000), { overlap: 'allowAll' })],
        { runnerId: 'a', now: instantAt(1_000) },
      );
      const a = expectClaimed(outcomes[0]);
      const b = expectClaimed(outcomes[1]);
      expect(a.run.id).not.toBe(b.run.id);
      expect((await h.store.queryRuns({ status: 'running' })).runs).toHaveLength(2);
    });

    it('different keys of one job do not block each other', async () => {
      const tenants = [
        { code: 'report', key: 'tenant-a' },
        { code: 'report', key: 'tenant-b' },
        { code: 'report', key: '' },
      ];
      await prepareSchedules(h.store, tenants, instantAt(0));
      const outcomes = await h.store.claimSlots(
        tenants.map((t) => claimFor(t, instantAt(0))),
        { runnerId: 'a', now: instantAt(0) },
      );
      expect(outcomes.map((o) => o.status)).toEqual(['claimed', 'claimed', 'claimed']);
      outcomes.forEach((o, i) => {
        expect(expectClaimed(o).run.key).toBe(tenants[i]?.key);
      });
    });

    it('a paused schedule answers paused and nothing changes; the slot is still claimable after resume', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      await h.store.setPaused(ref, true, { note: 'hold', now: instantAt(0) });
      const [before] = await h.store.getStates([ref]);
      const claim = claimFor(ref, instantAt(60_000));
      expect(await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(60_000) })).toEqual([{ status: 'paused' }]);
      const [after] = await h.store.getStates([ref]);
      expect(after?.lastSlotAt).toBeNull();
      expect(after?.totalRuns).toBe(0);
      expect(after?.paused).toBe(true);
      expect(after?.updatedAt.getTime()).toBe(before?.updatedAt.getTime());
      expect((await h.store.queryRuns({})).runs).toEqual([]);
      await h.store.setPaused(ref, false, { now: instantAt(60_001) });
      expectClaimed((await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(60_002) }))[0]);
    });

    it('a slot already claimed answers taken, not paused, after the schedule is paused (taken is checked first)', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const claim = claimFor(ref, instantAt(60_000));
      expectClaimed((await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(60_000) }))[0]);
      await h.store.setPaused(ref, true, { now: instantAt(61_000) });
      expect(await h.store.claimSlots([claim], { runnerId: 'b', now: instantAt(62_000) })).toEqual([{ status: 'taken' }]);
    });

    it('lastSlotAt follows schedule claims forward only; manual, force and retry runs leave it alone', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const opts = { overlap: 'allowAll' as const };
      await h.store.claimSlots([claimFor(ref, instantAt(120_000), opts)], { runnerId: 'a', now: instantAt(120_000) });
      await h.store.claimSlots([claimFor(ref, instantAt(60_000), opts)], { runnerId: 'a', now: instantAt(120_001) });
      let [state] = await h.store.getStates([ref]);
      expect(state?.lastSlotAt?.getTime()).toBe(instantAt(120_000).getTime());
      const request = await h.store.requestRun(ref, { now: instantAt(500_000) });
      await h.store.claimSlots(
        [
          claimFor(ref, instantAt(500_000), { ...opts, trigger: 'manual', requestId: request.id }),
          claimFor(ref, instantAt(600_000), { ...opts, trigger: 'force' }),
          claimFor(ref, instantAt(700_000), { ...opts, trigger: 'retry', attempt: 2 }),
        ],
        { runnerId: 'a', now: instantAt(700_000) },
      );
      [state] = await h.store.getStates([ref]);
      expect(state?.lastSlotAt?.getTime()).toBe(instantAt(120_000).getTime());
      expect(state?.totalRuns).toBe(5);
    });

    it('claims a batch of 1000 slots in one call, answering in request order', async () => {
      const refs = Array.from({ length: 1000 }, (_, i) => ({ code: `bulk-${i % 10}`, key: `k${i}` }));
      await prepareSchedules(h.store, refs, instantAt(0));
      const outcomes = await h.store.claimSlots(
        refs.map((r) => claimFor(r, instantAt(0))),
        { runnerId: 'bulk', now: instantAt(0) },
      );
      expect(outcomes).toHaveLength(1000);
      outcomes.forEach((outcome, i) => {
        const { run } = expectClaimed(outcome);
        expect(run.key).toBe(refs[i]?.key);
        expect(run.code).toBe(refs[i]?.code);
      });
      expect(new Set(outcomes.map((o) => expectClaimed(o).run.id)).size).toBe(1000);
      const states = await h.store.getStates();
      expect(states.reduce((sum, s) => sum + s.totalRuns, 0)).toBe(1000);
    });

    it('rejects invalid claims with InvalidArgumentError and claims nothing of the batch', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const ok = claimFor(ref, instantAt(0));
      const context = { runnerId: 'a', now: instantAt(0) };
      await expect(h.store.claimSlots([ok, claimFor(ref, instantAt(1), { leaseMs: -1 })], context)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(h.store.claimSlots([ok, claimFor({ code: '', key: '' }, instantAt(1))], context)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      const badKey = { ...ok, key: undefined } as unknown as typeof ok;
      await expect(h.store.claimSlots([ok, badKey], context)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect((await h.store.queryRuns({})).runs).toEqual([]);
      const [state] = await h.store.getStates([ref]);
      expect(state?.totalRuns).toBe(0);
      expect(await h.store.claimSlots([], context)).toEqual([]);
    });
  });
}
