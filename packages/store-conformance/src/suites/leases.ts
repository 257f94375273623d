import type { Store } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy, expectClaimed, expectRunShape } from '../outcomes.js';

const ref = { code: 'lease-job', key: '' };

async function claimOne(store: Store, slotMs: number, leaseMs: number, runnerId = 'owner', key = '') {
  const [outcome] = await store.claimSlots([claimFor({ code: ref.code, key }, instantAt(slotMs), { leaseMs })], {
    runnerId,
    now: instantAt(slotMs),
  });
  return expectClaimed(outcome);
}

/** Lease renewal, expiry and takeover (fencing), and reaping of expired runs. */
export function describeLeases(h: StoreHarness): void {
  describe('leases', () => {
    it('renewLeases extends the expiry to now + leaseMs, so a later claim still overlaps', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { run, lease } = await claimOne(h.store, 0, 10_000);
      const [renewed] = await h.store.renewLeases([lease], { now: instantAt(8_000), leaseMs: 10_000 });
      expect(renewed).toMatchObject({ runId: run.id, token: lease.token, runnerId: 'owner', code: ref.code, key: ref.key });
      expect(renewed?.expiresAt).toBeInstanceOf(Date);
      expect(renewed?.expiresAt.getTime()).toBe(instantAt(18_000).getTime());
      expect((await h.store.getRun(run.id))?.leaseExpiresAt?.getTime()).toBe(instantAt(18_000).getTime());
      const [later] = await h.store.claimSlots([claimFor(ref, instantAt(15_000))], { runnerId: 'other', now: instantAt(15_000) });
      expect(later?.status).toBe('overlap');
      expect((await h.store.getRun(run.id))?.status).toBe('running');
    });

    it('a lease past its expiry but not yet taken over can still be renewed', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { lease } = await claimOne(h.store, 0, 1_000);
      const [renewed] = await h.store.renewLeases([lease], { now: instantAt(5_000), leaseMs: 1_000 });
      expect(renewed?.expiresAt.getTime()).toBe(instantAt(6_000).getTime());
    });

    it('renewLeases answers null for a forged token and for a finished run, in request order', async () => {
      await prepareSchedules(h.store, [ref, { code: ref.code, key: 'b' }], instantAt(0));
      const live = await claimOne(h.store, 0, 10_000);
      const done = await claimOne(h.store, 0, 10_000, 'owner', 'b');
      await h.store.completeRuns([{ lease: done.lease, status: 'succeeded', finishedAt: instantAt(1_000) }]);
      const forged = { ...live.lease, token: live.lease.token + 1_000 };
      const answers = await h.store.renewLeases([forged, live.lease, done.lease], { now: instantAt(2_000), leaseMs: 5_000 });
      expect(answers[0]).toBeNull();
      expect(answers[1]?.expiresAt.getTime()).toBe(instantAt(7_000).getTime());
      expect(answers[2]).toBeNull();
      expect(await h.store.renewLeases([], { now: instantAt(2_000), leaseMs: 5_000 })).toEqual([]);
    });

    it('a claim after the lease expired interrupts the old run and fences out its owner', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const old = await claimOne(h.store, 0, 1_000, 'crashed');
      const other = await h.open();
      const [next] = await other.claimSlots([claimFor(ref, instantAt(60_000))], { runnerId: 'successor', now: instantAt(60_000) });
      const fresh = expectClaimed(next);
      // The interrupted run is handed to this claimant, and only to it (so one runner alerts on it).
      expect(next?.reaped?.map(({ run }) => [run.id, run.status])).toEqual([[old.run.id, 'interrupted']]);
      expect(next?.reaped?.[0]?.state).toMatchObject({ lastStatus: 'interrupted', consecutiveFailures: 1 });
      expect(await h.store.reapExpired({ now: instantAt(60_001) })).toEqual([]);
      expect(fresh.run.token).toBeGreaterThan(old.run.token);
      const interrupted = await other.getRun(old.run.id);
      expect(interrupted).toMatchObject({ status: 'interrupted', leaseExpiresAt: null });
      expect(interrupted?.finishedAt?.getTime()).toBe(instantAt(60_000).getTime());
      expect(interrupted?.message).toEqual(expect.any(String));
      expect(await h.store.renewLeases([old.lease], { now: instantAt(60_001), leaseMs: 1_000 })).toEqual([null]);
      const [completion] = await h.store.completeRuns([{ lease: old.lease, status: 'succeeded', finishedAt: instantAt(60_002) }]);
      expect(completion?.status).toBe('stale');
      expect((await h.store.getRun(old.run.id))?.status).toBe('interrupted');
      const [state] = await h.store.getStates([ref]);
      expect(state?.lastStatus).toBe('interrupted');
      expect(state?.consecutiveFailures).toBe(1);
    });

    it('reapExpired marks expired runs interrupted, updates their state and never touches live leases', async () => {
      const keys = ['a', 'b', 'c'];
      await prepareSchedules(
        h.store,
        keys.map((key) => ({ code: ref.code, key })),
        instantAt(0),
      );
      const a = await claimOne(h.store, 0, 1_000, 'r', 'a');
      const b = await claimOne(h.store, 0, 2_000, 'r', 'b');
      const c = await claimOne(h.store, 0, 60_000, 'r', 'c');
      const reaped = await h.store.reapExpired({ now: instantAt(5_000) });
      expect(reaped.map(({ run }) => run.id).sort()).toEqual([a.run.id, b.run.id].sort());
      for (const { run, state } of reaped) {
        expect(state).toMatchObject({ code: run.code, key: run.key, lastStatus: 'interrupted', consecutiveFailures: 1 });
        expectRunShape(run);
        expect(run).toMatchObject({ status: 'interrupted', leaseExpiresAt: null });
        expect(run.finishedAt?.getTime()).toBe(instantAt(5_000).getTime());
        expect(run.message).toEqual(expect.any(String));
      }
      expect((await h.store.getRun(c.run.id))?.status).toBe('running');
      const [stateA] = await h.store.getStates([{ code: ref.code, key: 'a' }]);
      expect(stateA).toMatchObject({ lastStatus: 'interrupted', lastAttempt: 1, consecutiveFailures: 1 });
      expect(stateA?.lastFinishedAt?.getTime()).toBe(instantAt(5_000).getTime());
      expect(await h.store.reapExpired({ now: instantAt(5_000) })).toEqual([]);
      expect(await h.store.renewLeases([a.lease], { now: instantAt(5_001), leaseMs: 1_000 })).toEqual([null]);
      expect((await h.store.completeRuns([{ lease: b.lease, status: 'succeeded', finishedAt: instantAt(5_002) }]))[0]?.status).toBe(
        'stale',
      );
    });

    it('a lease is live only while expiresAt > now: at exactly expiresAt it is reaped and can be taken over', async () => {
      await prepareSchedules(h.store, [ref], instantAt(0));
      const first = await claimOne(h.store, 0, 1_000);
      expect(await h.store.reapExpired({ now: instantAt(999) })).toEqual([]);
      const reaped = await h.store.reapExpired({ now: instantAt(1_000) });
      expect(reaped.map(({ run }) => [run.id, run.status])).toEqual([[first.run.id, 'interrupted']]);
      await prepareSchedules(h.store, [{ code: ref.code, key: 'other-key' }], instantAt(2_000));
      const second = await claimOne(h.store, 2_000, 1_000, 'owner', 'other-key');
      const [takeover] = await h.store.claimSlots([claimFor({ code: ref.code, key: 'other-key' }, instantAt(3_000))], {
        runnerId: 'next',
        now: instantAt(3_000),
      });
      expect(takeover?.status).toBe('claimed');
      expect((await h.store.getRun(second.run.id))?.status).toBe('interrupted');
    });

    it('reapExpired honours limit', async () => {
      const keys = ['a', 'b', 'c', 'd', 'e'];
      await prepareSchedules(
        h.store,
        keys.map((key) => ({ code: ref.code, key })),
        instantAt(0),
      );
      for (const key of keys) await claimOne(h.store, 0, 1_000, 'r', key);
      const first = await h.store.reapExpired({ now: instantAt(2_000), limit: 2 });
      expect(first).toHaveLength(2);
      const rest = await h.store.reapExpired({ now: instantAt(2_000), limit: 10 });
      expect(rest).toHaveLength(3);
      expect(new Set([...first, ...rest].map(({ run }) => run.id)).size).toBe(5);
    });

    it('each expired run is reaped by exactly one of N racing instances', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      await prepareSchedules(
        h.store,
        keys.map((key) => ({ code: ref.code, key })),
        instantAt(0),
      );
      const expired = [];
      for (const [i, key] of keys.entries()) {
        const claimed = await claimOne(h.store, 0, i < 20 ? 1_000 : 600_000, 'r', key);
        if (i < 20) expired.push(claimed.run.id);
      }
      const racers = await h.openMany(h.raceInstances);
      const results = await Promise.all(racers.map((store) => store.reapExpired({ now: instantAt(10_000) })));
      const ids = results.flat().map(({ run }) => run.id);
      expect([...countBy(ids).values()].every((n) => n === 1)).toBe(true);
      expect(ids.sort()).toEqual(expired.sort());
      expect((await h.store.queryRuns({ status: 'running' })).runs).toHaveLength(10);
    });
  });
}
