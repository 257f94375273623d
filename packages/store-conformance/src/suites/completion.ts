import type { FinalRunStatus } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed, expectCompleted, expectRunShape, expectStateShape } from '../outcomes.js';

const FINAL: readonly FinalRunStatus[] = ['succeeded', 'failed', 'timed_out', 'interrupted'];

/** completeRuns: recorded fields, state bookkeeping, stale completions, lease release. */
export function describeCompletion(h: StoreHarness): void {
  describe('completion', () => {
    for (const status of FINAL) {
      it(`records a run completed as ${status} with its fields and updates the schedule's state`, async () => {
        const ref = { code: 'complete', key: status };
        await prepareSchedules(h.store, [ref], instantAt(0));
        const [outcome] = await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(1_000) });
        const { run, lease } = expectClaimed(outcome);
        const [completion] = await h.store.completeRuns([
          {
            lease,
            status,
            finishedAt: instantAt(4_500),
            message: 'processed 12 rows',
            error: `error of ${status}`,
            stack: 'Error: x\n    at y',
          },
        ]);
        const done = expectCompleted(completion);
        expectRunShape(done.run);
        expect(done.run).toMatchObject({
          id: run.id,
          status,
          durationMs: 3_500,
          leaseExpiresAt: null,
          message: 'processed 12 rows',
          error: `error of ${status}`,
          stack: 'Error: x\n    at y',
        });
        expect(done.run.finishedAt?.getTime()).toBe(instantAt(4_500).getTime());
        expect(await h.store.getRun(run.id)).toEqual(done.run);
        expectStateShape(done.state);
        expect(done.state).toMatchObject({
          code: ref.code,
          key: ref.key,
          lastStatus: status,
          lastAttempt: 1,
          consecutiveFailures: status === 'succeeded' ? 0 : 1,
          totalRuns: 1,
        });
        expect(done.state.lastFinishedAt?.getTime()).toBe(instantAt(4_500).getTime());
        expect(done.state.lastFinishedSlotAt?.getTime()).toBe(instantAt(0).getTime());
        const [read] = await h.store.getStates([ref]);
        expect(read).toEqual(done.state);
      });
    }

    it('message, error and stack default to null', async () => {
      const ref = { code: 'complete', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { lease } = expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) }))[0]);
      const done = expectCompleted((await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(10) }]))[0]);
      expect(done.run).toMatchObject({ message: null, error: null, stack: null, durationMs: 10 });
    });

    it('consecutiveFailures counts failures since the last success; totalRuns counts every claim', async () => {
      const ref = { code: 'streak', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const sequence: FinalRunStatus[] = ['failed', 'timed_out', 'interrupted', 'succeeded', 'failed'];
      const expected = [1, 2, 3, 0, 1];
      for (const [i, status] of sequence.entries()) {
        const slot = instantAt(i * 60_000);
        const { lease } = expectClaimed((await h.store.claimSlots([claimFor(ref, slot)], { runnerId: 'r', now: slot }))[0]);
        const { state } = expectCompleted((await h.store.completeRuns([{ lease, status, finishedAt: instantAt(i * 60_000 + 5) }]))[0]);
        expect(state.consecutiveFailures).toBe(expected[i]);
        expect(state.totalRuns).toBe(i + 1);
        expect(state.lastSlotAt?.getTime()).toBe(slot.getTime());
      }
    });

    it('a second completion of the same run is stale and changes nothing', async () => {
      const ref = { code: 'twice', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { run, lease } = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) }))[0],
      );
      const first = expectCompleted((await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(100) }]))[0]);
      const [second] = await h.store.completeRuns([{ lease, status: 'failed', finishedAt: instantAt(200), error: 'late' }]);
      expect(second?.status).toBe('stale');
      if (second?.status === 'stale') expect(second.run?.status).toBe('succeeded');
      expect(await h.store.getRun(run.id)).toEqual(first.run);
      const [state] = await h.store.getStates([ref]);
      expect(state).toMatchObject({ lastStatus: 'succeeded', consecutiveFailures: 0 });
    });

    it('a batch answers per item in request order; a forged token is stale', async () => {
      const refs = [
        { code: 'batch', key: 'a' },
        { code: 'batch', key: 'b' },
      ];
      await prepareSchedules(h.store, refs, instantAt(0));
      const outcomes = await h.store.claimSlots(
        refs.map((r) => claimFor(r, instantAt(0))),
        { runnerId: 'r', now: instantAt(0) },
      );
      const a = expectClaimed(outcomes[0]);
      const b = expectClaimed(outcomes[1]);
      const answers = await h.store.completeRuns([
        { lease: { ...a.lease, token: a.lease.token + 1_000 }, status: 'succeeded', finishedAt: instantAt(10) },
        { lease: b.lease, status: 'failed', finishedAt: instantAt(10) },
      ]);
      expect(answers.map((x) => x.status)).toEqual(['stale', 'completed']);
      expect((await h.store.getRun(a.run.id))?.status).toBe('running');
      expect((await h.store.getRun(b.run.id))?.status).toBe('failed');
      expect(await h.store.completeRuns([])).toEqual([]);
    });

    it('completion releases the lease: the next slot is claimed, not skipped', async () => {
      const ref = { code: 'release', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { lease } = expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) }))[0]);
      await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(1_000) }]);
      const [next] = await h.store.claimSlots([claimFor(ref, instantAt(2_000))], { runnerId: 'r2', now: instantAt(2_000) });
      expect(next?.status).toBe('claimed');
    });
  });
}
