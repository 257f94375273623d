import { InvalidArgumentError, type OverlapPolicy, type ScheduleRef, type Store } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed, expectCompleted, expectOverlap } from '../outcomes.js';

const MINUTE = 60_000;

/** Claims `ref`'s slot at `minute` minutes with `overlap` and a 10-minute lease, as of `nowMs` (default: the slot's instant). */
async function claimMinute(
  store: Store,
  ref: ScheduleRef,
  minute: number,
  overlap: OverlapPolicy,
  nowMs = minute * MINUTE,
  runnerId = 'r',
) {
  const claim = claimFor(ref, instantAt(minute * MINUTE), { overlap, leaseMs: 10 * MINUTE });
  const [outcome] = await store.claimSlots([claim], { runnerId, now: instantAt(nowMs) });
  return outcome;
}

/**
 * Overlap judged at the slot's instant, the five policies, waiting runs, and slots that wait instead of being
 * consumed (backfill, pre-claims).
 */
export function describeOverlapPolicies(h: StoreHarness): void {
  describe('overlap policies', () => {
    it('a pre-claim (now < slotAt) meeting a live lease is busy and consumes nothing; at the instant, after the holder ended, it is claimed', async () => {
      // Issue #15 case 3: daemons claim ahead; only the instant may decide an overlap.
      const ref = { code: 'preclaim', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const holder = expectClaimed(await claimMinute(h.store, ref, 0, 'skip', 0, 'a'));
      expect(await h.store.claimSlots([claimFor(ref, instantAt(MINUTE))], { runnerId: 'b', now: instantAt(MINUTE - 2_000) })).toEqual([
        { status: 'busy' },
      ]);
      const [state] = await h.store.getStates([ref]);
      expect(state?.lastSlotAt?.getTime()).toBe(instantAt(0).getTime());
      expect((await h.store.queryRuns({})).runs).toHaveLength(1);
      await h.store.completeRuns([{ lease: holder.lease, status: 'succeeded', finishedAt: instantAt(MINUTE - 200) }]);
      const { run } = expectClaimed(await claimMinute(h.store, ref, 1, 'skip', MINUTE, 'b'));
      expect(run.runnerId).toBe('b');
    });

    it('backfill slots meeting a live lease are busy, never skipped; they are claimed in order once the holder ends', async () => {
      // Issue #15 case 2: six owed slots, a second runner meets the first one's lease.
      const ref = { code: 'backfill', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const now = instantAt(6 * MINUTE);
      const first = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(MINUTE), { backfill: true })], { runnerId: 'a', now }))[0],
      );
      const rest = [2, 3, 4, 5, 6].map((m) => claimFor(ref, instantAt(m * MINUTE), { backfill: true }));
      const answers = await h.store.claimSlots(rest, { runnerId: 'b', now });
      expect(answers).toEqual(rest.map(() => ({ status: 'busy' })));
      expect((await h.store.queryRuns({ status: 'skipped' })).runs).toEqual([]);
      await h.store.completeRuns([{ lease: first.lease, status: 'succeeded', finishedAt: instantAt(6 * MINUTE + 100) }]);
      for (const [i, claim] of rest.entries()) {
        const { lease } = expectClaimed((await h.store.claimSlots([claim], { runnerId: 'b', now: instantAt(6 * MINUTE + 200 + i) }))[0]);
        await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(6 * MINUTE + 300 + i) }]);
      }
      expect((await h.store.queryRuns({ status: 'succeeded' })).runs).toHaveLength(6);
    });

    it('bufferOne: the first slot meeting the lease waits (visible), the next is skipped; the waiting one starts after the holder with a fresh token', async () => {
      const ref = { code: 'buffer-one', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const holder = expectClaimed(await claimMinute(h.store, ref, 0, 'bufferOne'));
      const waitingOutcome = await claimMinute(h.store, ref, 1, 'bufferOne');
      expect(waitingOutcome?.status).toBe('waiting');
      const waiting = waitingOutcome?.status === 'waiting' ? waitingOutcome.run : null;
      expect(waiting).toMatchObject({ status: 'waiting', leaseExpiresAt: null, finishedAt: null, token: 0 });
      expect(typeof waiting?.message).toBe('string');
      let [state] = await h.store.getStates([ref]);
      expect(state?.waitingSlotAt?.getTime()).toBe(instantAt(MINUTE).getTime());
      expect(state?.lastSlotAt?.getTime()).toBe(instantAt(MINUTE).getTime());
      expect(state?.totalRuns).toBe(1);
      expect((await h.store.queryRuns({ status: 'waiting' })).runs.map((r) => r.id)).toEqual([waiting?.id]);
      const skipped = expectOverlap(await claimMinute(h.store, ref, 2, 'bufferOne'));
      expect(skipped.status).toBe('skipped');
      // Still held: the waiting slot's own claim is busy.
      expect(await claimMinute(h.store, ref, 1, 'bufferOne', 2 * MINUTE + 1)).toEqual({ status: 'busy' });
      const { state: afterHolder } = expectCompleted(
        (await h.store.completeRuns([{ lease: holder.lease, status: 'succeeded', finishedAt: instantAt(2 * MINUTE + 10) }]))[0],
      );
      expect(afterHolder.waitingSlotAt?.getTime()).toBe(instantAt(MINUTE).getTime());
      const started = expectClaimed(await claimMinute(h.store, ref, 1, 'bufferOne', 2 * MINUTE + 20, 'other'));
      expect(started.run).toMatchObject({ id: waiting?.id, status: 'running', runnerId: 'other' });
      expect(started.run.token).toBeGreaterThan(holder.run.token);
      expect(started.run.startedAt.getTime()).toBe(instantAt(2 * MINUTE + 20).getTime());
      [state] = await h.store.getStates([ref]);
      expect(state?.waitingSlotAt).toBeNull();
      expect(state?.totalRuns).toBe(2);
      expect(await claimMinute(h.store, ref, 1, 'bufferOne', 2 * MINUTE + 30, 'third')).toEqual({ status: 'taken' });
    });

    it('bufferAll: every slot meeting the lease waits; they start in slot order, a later one is busy while an earlier one waits', async () => {
      const ref = { code: 'buffer-all', key: 'tenant' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const holder = expectClaimed(await claimMinute(h.store, ref, 0, 'bufferAll'));
      for (const m of [1, 2, 3]) expect((await claimMinute(h.store, ref, m, 'bufferAll'))?.status).toBe('waiting');
      await h.store.completeRuns([{ lease: holder.lease, status: 'succeeded', finishedAt: instantAt(3 * MINUTE + 1) }]);
      expect(await claimMinute(h.store, ref, 2, 'bufferAll', 3 * MINUTE + 2)).toEqual({ status: 'busy' });
      // A new slot arriving while slots wait queues behind them, even with nothing running.
      expect((await claimMinute(h.store, ref, 4, 'bufferAll'))?.status).toBe('waiting');
      const order: number[] = [];
      for (const m of [1, 2, 3, 4]) {
        const [state] = await h.store.getStates([ref]);
        expect(state?.waitingSlotAt?.getTime()).toBe(instantAt(m * MINUTE).getTime());
        const { run, lease } = expectClaimed(await claimMinute(h.store, ref, m, 'bufferAll', 4 * MINUTE + m));
        order.push(run.slotAt.getTime());
        await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(4 * MINUTE + m + 1) }]);
      }
      expect(order).toEqual([1, 2, 3, 4].map((m) => instantAt(m * MINUTE).getTime()));
      const [state] = await h.store.getStates([ref]);
      expect(state).toMatchObject({ waitingSlotAt: null, totalRuns: 5 });
    });

    it('cancelOther: the slot waits and the holder is asked to stop through its renewal answer', async () => {
      const ref = { code: 'cancel-other', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const holder = expectClaimed(await claimMinute(h.store, ref, 0, 'cancelOther'));
      expect(holder.lease.cancelRequested).toBe(false);
      expect((await claimMinute(h.store, ref, 1, 'cancelOther'))?.status).toBe('waiting');
      const [renewed] = await h.store.renewLeases([holder.lease], { now: instantAt(MINUTE + 10), leaseMs: MINUTE });
      expect(renewed).toMatchObject({ runId: holder.run.id, cancelRequested: true });
      expect((await h.store.getRun(holder.run.id))?.cancelRequested).toBe(true);
      await h.store.completeRuns([
        { lease: holder.lease, status: 'interrupted', finishedAt: instantAt(MINUTE + 20), message: 'cancelled' },
      ]);
      const next = expectClaimed(await claimMinute(h.store, ref, 1, 'cancelOther', MINUTE + 30));
      expect(next.lease.cancelRequested).toBe(false);
    });

    it('allowAll runs beside a live lease and interrupts nothing', async () => {
      const ref = { code: 'allow-all', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      expectClaimed(await claimMinute(h.store, ref, 0, 'allowAll'));
      expectClaimed(await claimMinute(h.store, ref, 1, 'allowAll'));
      expect((await h.store.queryRuns({ status: 'running' })).runs).toHaveLength(2);
    });

    it('a waiting run is never pruned, waits through a pause, and goes with its removed runtime schedule', async () => {
      const ref = { code: 'waiting-life', key: 'k' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const holder = expectClaimed(await claimMinute(h.store, ref, 0, 'bufferOne'));
      expect((await claimMinute(h.store, ref, 1, 'bufferOne'))?.status).toBe('waiting');
      await h.store.completeRuns([{ lease: holder.lease, status: 'succeeded', finishedAt: instantAt(MINUTE + 1) }]);
      expect(await h.store.pruneRuns({ olderThan: instantAt(100 * MINUTE) })).toBe(1);
      await h.store.setPaused(ref, true, { now: instantAt(MINUTE + 2) });
      expect(await claimMinute(h.store, ref, 1, 'bufferOne', MINUTE + 3)).toEqual({ status: 'paused' });
      expect((await h.store.queryRuns({ status: 'waiting' })).runs).toHaveLength(1);
      await h.store.removeSchedules([ref]);
      expect((await h.store.queryRuns({})).runs).toEqual([]);
    });

    it('rejects an unknown overlap policy or a non-boolean backfill with InvalidArgumentError, claiming nothing', async () => {
      const ref = { code: 'bad-policy', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const context = { runnerId: 'a', now: instantAt(0) };
      const ok = claimFor(ref, instantAt(0));
      await expect(
        h.store.claimSlots([ok, { ...ok, slotAt: instantAt(1), overlap: 'sometimes' as OverlapPolicy }], context),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(
        h.store.claimSlots([ok, { ...ok, slotAt: instantAt(1), backfill: 'yes' as unknown as boolean }], context),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      expect((await h.store.queryRuns({})).runs).toEqual([]);
    });
  });
}
