import { InvalidArgumentError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed, expectCompleted, expectRunShape, expectStateShape } from '../outcomes.js';

/**
 * completeRuns with status `skipped`: a runner claimed a slot ahead of its instant, the schedule was
 * paused, disabled or removed before the instant, and the handler was not called.
 */
export function describeNotRun(h: StoreHarness): void {
  describe('completion of a run not started (skipped)', () => {
    it('records the claimed run as skipped with its reason, releases the lease, and gives back what the claim counted', async () => {
      const ref = { code: 'not-run', key: 'tenant' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      // Pre-claimed 2 s ahead of its instant, with a limit of 2 scheduled runs.
      const { run, lease } = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(60_000), { maxRuns: 2 })], { runnerId: 'r', now: instantAt(58_000) }))[0],
      );
      const [answer] = await h.store.completeRuns([
        {
          lease,
          status: 'skipped',
          skipReason: 'disabled',
          finishedAt: instantAt(60_000),
          message: 'not run: the runtime schedule was disabled before its instant',
        },
      ]);
      const done = expectCompleted(answer);
      expectRunShape(done.run);
      expect(done.run).toMatchObject({
        id: run.id,
        status: 'skipped',
        skipReason: 'disabled',
        durationMs: 0,
        leaseExpiresAt: null,
        message: 'not run: the runtime schedule was disabled before its instant',
        error: null,
        stack: null,
        slotCount: 1,
      });
      expect(done.run.finishedAt?.getTime()).toBe(instantAt(60_000).getTime());
      expect(await h.store.getRun(run.id)).toEqual(done.run);
      expectStateShape(done.state);
      expect(done.state).toMatchObject({
        lastSkipReason: 'disabled',
        lastStatus: null,
        lastAttempt: null,
        consecutiveFailures: 0,
        totalRuns: 0,
        scheduledRuns: 0,
      });
      expect(done.state.lastSkippedSlotAt?.getTime()).toBe(instantAt(60_000).getTime());
      expect(done.state.lastSlotAt?.getTime()).toBe(instantAt(60_000).getTime());
      expect(done.state.lastFinishedAt).toBeNull();
      expect((await h.store.getStates([ref]))[0]).toEqual(done.state);
      // Found by reason in the run log.
      expect((await h.store.queryRuns({ code: ref.code, reason: 'disabled' })).runs.map((r) => r.id)).toEqual([run.id]);
      // The lease is free and both scheduled runs are still owed: the next two slots are claimed, not skipped or ended.
      const [next] = await h.store.claimSlots([claimFor(ref, instantAt(120_000), { maxRuns: 2 })], {
        runnerId: 'r2',
        now: instantAt(120_000),
      });
      const claimed = expectClaimed(next);
      await h.store.completeRuns([{ lease: claimed.lease, status: 'succeeded', finishedAt: instantAt(121_000) }]);
      const [third] = await h.store.claimSlots([claimFor(ref, instantAt(180_000), { maxRuns: 2 })], {
        runnerId: 'r2',
        now: instantAt(180_000),
      });
      expect(third?.status).toBe('claimed');
    });

    it('a skip keeps the failure streak and the last finished run as they were', async () => {
      const ref = { code: 'not-run-streak', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const first = expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) }))[0]);
      const failed = expectCompleted(
        (await h.store.completeRuns([{ lease: first.lease, status: 'failed', finishedAt: instantAt(500), error: 'boom' }]))[0],
      );
      const second = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(60_000))], { runnerId: 'r', now: instantAt(59_000) }))[0],
      );
      const skipped = expectCompleted(
        (
          await h.store.completeRuns([
            { lease: second.lease, status: 'skipped', skipReason: 'paused', finishedAt: instantAt(60_000), message: 'not run: paused' },
          ])
        )[0],
      );
      expect(skipped.run).toMatchObject({ status: 'skipped', skipReason: 'paused' });
      expect(skipped.state).toMatchObject({
        lastStatus: 'failed',
        lastAttempt: 1,
        consecutiveFailures: 1,
        totalRuns: 1,
        scheduledRuns: 1,
        lastSkipReason: 'paused',
      });
      expect(skipped.state?.lastFinishedAt?.getTime()).toBe(failed.state?.lastFinishedAt?.getTime());
      expect(skipped.state?.lastFinishedSlotAt?.getTime()).toBe(instantAt(0).getTime());
    });

    it('a second completion of a skipped run is stale', async () => {
      const ref = { code: 'not-run-twice', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { lease } = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(1_000))], { runnerId: 'r', now: instantAt(0) }))[0],
      );
      expectCompleted(
        (
          await h.store.completeRuns([{ lease, status: 'skipped', skipReason: 'paused', finishedAt: instantAt(1_000), message: 'not run' }])
        )[0],
      );
      const [again] = await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(2_000) }]);
      expect(again).toMatchObject({ status: 'stale', run: { status: 'skipped', skipReason: 'paused' } });
    });

    it('refuses a skipped completion without a reason, with an unknown one, or a reason on another status, and changes nothing', async () => {
      const ref = { code: 'not-run-bad', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { run, lease } = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(1_000))], { runnerId: 'r', now: instantAt(0) }))[0],
      );
      const bad = [
        { lease, status: 'skipped', finishedAt: instantAt(1_000) },
        { lease, status: 'skipped', skipReason: 'overlap', finishedAt: instantAt(1_000) },
        { lease, status: 'succeeded', skipReason: 'paused', finishedAt: instantAt(1_000) },
      ];
      for (const completion of bad) {
        const error = await h.store.completeRuns([completion as never]).then(
          () => null,
          (thrown: unknown) => thrown,
        );
        expect(error, JSON.stringify({ status: completion.status, skipReason: completion.skipReason })).toBeInstanceOf(
          InvalidArgumentError,
        );
        expect((error as Error).message).toContain('skipReason');
      }
      expect(await h.store.getRun(run.id)).toMatchObject({ status: 'running', skipReason: null });
    });
  });
}
