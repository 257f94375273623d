import type { ScheduleRef } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy, expectClaimed, expectCompleted } from '../outcomes.js';

/**
 * The store's side of "faults do not duplicate": idempotent claims, completions past expiry, interrupted runs
 * handed out once, cancel through renewal.
 */
export function describeExactlyOnce(h: StoreHarness): void {
  describe('exactly once under faults', () => {
    it('a claim retried by the same runner gets its own run, token and lease back; another runner sees it taken', async () => {
      // Issue #15 case 1: a committed claim whose answer was lost is retried by its runner.
      const ref = { code: 'lost-answer', key: 'tenant' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const claim = claimFor(ref, instantAt(0), { leaseMs: 30_000 });
      const first = expectClaimed((await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(0) }))[0]);
      const again = expectClaimed((await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(5_000) }))[0]);
      expect(again.run).toEqual(first.run);
      expect(again.lease).toEqual(first.lease);
      expect(await h.store.claimSlots([claim], { runnerId: 'b', now: instantAt(5_001) })).toEqual([{ status: 'taken' }]);
      const [state] = await h.store.getStates([ref]);
      expect(state?.totalRuns).toBe(1);
      expect((await h.store.queryRuns({})).runs).toHaveLength(1);
      // Once finished, even its own runner's retry is taken (the result is recorded).
      await h.store.completeRuns([{ lease: first.lease, status: 'succeeded', finishedAt: instantAt(6_000) }]);
      expect(await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(7_000) })).toEqual([{ status: 'taken' }]);
    });

    it('a completion after the lease expired is accepted while nobody reaped or took the run over', async () => {
      // Issue #15 case 1: the store was unreachable past the lease; the handler's result must land.
      const ref = { code: 'late-result', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { run, lease } = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(0), { leaseMs: 1_000 })], { runnerId: 'a', now: instantAt(0) }))[0],
      );
      const done = expectCompleted(
        (await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(9_000), message: 'done' }]))[0],
      );
      expect(done.run).toMatchObject({ id: run.id, status: 'succeeded', message: 'done' });
      expect(done.state).toMatchObject({ lastStatus: 'succeeded', consecutiveFailures: 0 });
      expect(await h.store.reapExpired({ now: instantAt(10_000) })).toEqual([]);
    });

    it('a run whose lease expired is handed out interrupted exactly once, whether racers reap or claim the next slot', async () => {
      // Issue #15 case 5: exactly one runner must see each interruption, so exactly one calls onFailure.
      const refs: ScheduleRef[] = Array.from({ length: 12 }, (_, i) => ({ code: 'crashy', key: `k${i}` }));
      await prepareSchedules(h.store, refs, instantAt(0));
      const dead = await h.store.claimSlots(
        refs.map((r) => claimFor(r, instantAt(0), { leaseMs: 1_000 })),
        { runnerId: 'dead', now: instantAt(0) },
      );
      const ids = dead.map((o) => expectClaimed(o).run.id);
      const racers = await h.openMany(h.raceInstances);
      const results = await Promise.all(
        racers.map(async (store, i) => {
          if (i % 2 === 0) return (await store.reapExpired({ now: instantAt(60_000) })).map((r) => r.run.id);
          const answers = await store.claimSlots(
            refs.map((r) => claimFor(r, instantAt(60_000))),
            { runnerId: `r${i}`, now: instantAt(60_000) },
          );
          return answers.flatMap((o) => (o.reaped ?? []).map((r) => r.run.id));
        }),
      );
      const handed = results.flat();
      expect([...countBy(handed).values()].every((n) => n === 1)).toBe(true);
      expect(handed.sort()).toEqual([...ids].sort());
      const states = await h.store.getStates(refs);
      expect(states.every((s) => s.consecutiveFailures === 1 && s.lastStatus === 'interrupted')).toBe(true);
    });

    it('a claim that interrupts nothing carries no reaped list', async () => {
      const ref = { code: 'calm', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const [outcome] = await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'a', now: instantAt(0) });
      expect(outcome?.reaped ?? []).toEqual([]);
    });

    it('renewal and claim answers carry cancelRequested; fencing still refuses a stale token', async () => {
      // Issue #15 case 7: the holder learns of cancelOther through renewal; its token fences its own effects.
      const ref = { code: 'fenced', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { lease } = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(0), { leaseMs: 600_000 })], { runnerId: 'a', now: instantAt(0) }))[0],
      );
      const [plain] = await h.store.renewLeases([lease], { now: instantAt(1_000), leaseMs: 600_000 });
      expect(plain?.cancelRequested).toBe(false);
      const [forged] = await h.store.renewLeases([{ ...lease, token: lease.token + 1 }], { now: instantAt(1_000), leaseMs: 600_000 });
      expect(forged).toBeNull();
    });
  });
}
