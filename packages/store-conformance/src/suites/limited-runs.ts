import { InvalidArgumentError, type ScheduleRef } from '@tickwork/core';
import type { ClaimOutcome } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy, expectClaimed, expectCompleted } from '../outcomes.js';

const MINUTE = 60_000;

/** Limited runs (`SlotClaim.maxRuns`, `JobState.scheduledRuns`): what counts, what is refused, and races. */
export function describeLimitedRuns(h: StoreHarness): void {
  describe('limited runs (maxRuns)', () => {
    it('counts scheduled runs and answers ended to the claim after the last, changing nothing', async () => {
      const ref = { code: 'limited', key: '' };
      const [fresh] = await prepareSchedules(h.store, [ref], instantAt(0));
      expect(fresh?.scheduledRuns).toBe(0);
      for (let i = 0; i < 3; i += 1) {
        const [outcome] = await h.store.claimSlots([claimFor(ref, instantAt(i * MINUTE), { maxRuns: 3 })], {
          runnerId: 'r',
          now: instantAt(i * MINUTE),
        });
        const { lease } = expectClaimed(outcome);
        expectCompleted((await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(i * MINUTE + 1_000) }]))[0]);
      }
      const [before] = await h.store.getStates([ref]);
      expect(before).toMatchObject({ scheduledRuns: 3, totalRuns: 3 });
      const ended = await h.store.claimSlots([claimFor(ref, instantAt(3 * MINUTE), { maxRuns: 3 })], {
        runnerId: 'r',
        now: instantAt(3 * MINUTE),
      });
      expect(ended).toEqual([{ status: 'ended' }]);
      expect(await h.store.getStates([ref])).toEqual([before]);
      expect((await h.store.queryRuns({ code: ref.code })).runs).toHaveLength(3);
      // Raising the limit lets the schedule go on from its count.
      expectClaimed(
        (
          await h.store.claimSlots([claimFor(ref, instantAt(3 * MINUTE), { maxRuns: 4 })], { runnerId: 'r', now: instantAt(3 * MINUTE) })
        )[0],
      );
      expect((await h.store.getStates([ref]))[0]?.scheduledRuns).toBe(4);
    });

    it('counts scheduled runs without a limit too; retries, run-now requests and forced runs neither count nor end', async () => {
      const ref = { code: 'counted', key: 'tenant' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const [first] = await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) });
      const { lease } = expectClaimed(first);
      expectCompleted((await h.store.completeRuns([{ lease, status: 'failed', finishedAt: instantAt(1_000), error: 'boom' }]))[0]);
      expect((await h.store.getStates([ref]))[0]?.scheduledRuns).toBe(1);
      // The limit is reached: the retry of the failed slot, a forced run and a run-now request still run.
      const retry = claimFor(ref, instantAt(0), { attempt: 2, trigger: 'retry', maxRuns: 1 });
      const retried = expectClaimed((await h.store.claimSlots([retry], { runnerId: 'r', now: instantAt(2_000) }))[0]);
      expectCompleted((await h.store.completeRuns([{ lease: retried.lease, status: 'succeeded', finishedAt: instantAt(3_000) }]))[0]);
      const forced = expectClaimed(
        (
          await h.store.claimSlots([claimFor(ref, instantAt(4_000), { trigger: 'force', maxRuns: 1 })], {
            runnerId: 'r',
            now: instantAt(4_000),
          })
        )[0],
      );
      expectCompleted((await h.store.completeRuns([{ lease: forced.lease, status: 'succeeded', finishedAt: instantAt(5_000) }]))[0]);
      const request = await h.store.requestRun(ref, { now: instantAt(6_000) });
      const manual = claimFor(ref, request.requestedAt, { trigger: 'manual', requestId: request.id, maxRuns: 1 });
      expectClaimed((await h.store.claimSlots([manual], { runnerId: 'r', now: instantAt(6_000) }))[0]);
      expect((await h.store.getStates([ref]))[0]).toMatchObject({ scheduledRuns: 1, totalRuns: 4 });
      expect(
        await h.store.claimSlots([claimFor(ref, instantAt(MINUTE), { maxRuns: 1 })], { runnerId: 'r', now: instantAt(MINUTE) }),
      ).toEqual([{ status: 'ended' }]);
    });

    it('an overlap skip does not count; a waiting run counts once, when queued, and starts after the limit is reached', async () => {
      const ref = { code: 'queued', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const claim = (minute: number, overlap: 'skip' | 'bufferOne') =>
        claimFor(ref, instantAt(minute * MINUTE), { maxRuns: 2, overlap, leaseMs: 10 * MINUTE });
      const held = expectClaimed((await h.store.claimSlots([claim(0, 'skip')], { runnerId: 'r', now: instantAt(0) }))[0]);
      expect((await h.store.claimSlots([claim(1, 'skip')], { runnerId: 'r', now: instantAt(MINUTE) }))[0]?.status).toBe('overlap');
      expect((await h.store.getStates([ref]))[0]?.scheduledRuns).toBe(1);
      expect((await h.store.claimSlots([claim(2, 'bufferOne')], { runnerId: 'r', now: instantAt(2 * MINUTE) }))[0]?.status).toBe('waiting');
      expect((await h.store.getStates([ref]))[0]?.scheduledRuns).toBe(2);
      // The limit is reached while slot 2 waits: a later slot ends, the waiting one still starts, counted once.
      expect(await h.store.claimSlots([claim(3, 'bufferOne')], { runnerId: 'r', now: instantAt(3 * MINUTE) })).toEqual([
        { status: 'ended' },
      ]);
      expectCompleted((await h.store.completeRuns([{ lease: held.lease, status: 'succeeded', finishedAt: instantAt(3 * MINUTE + 1) }]))[0]);
      const started = expectClaimed(
        (await h.store.claimSlots([claim(2, 'bufferOne')], { runnerId: 'r', now: instantAt(3 * MINUTE + 2) }))[0],
      );
      expect(started.run.slotAt.getTime()).toBe(instantAt(2 * MINUTE).getTime());
      expect((await h.store.getStates([ref]))[0]).toMatchObject({ scheduledRuns: 2, totalRuns: 2, waitingSlotAt: null });
    });

    it('a runner claiming its own run again gets it back even at the limit; another runner sees it taken', async () => {
      const ref = { code: 'own-again', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const claim = claimFor(ref, instantAt(0), { maxRuns: 1 });
      const first = expectClaimed((await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(0) }))[0]);
      const again = expectClaimed((await h.store.claimSlots([claim], { runnerId: 'a', now: instantAt(10) }))[0]);
      expect(again.run.id).toBe(first.run.id);
      expect(await h.store.claimSlots([claim], { runnerId: 'b', now: instantAt(10) })).toEqual([{ status: 'taken' }]);
      expect((await h.store.getStates([ref]))[0]?.scheduledRuns).toBe(1);
    });

    it('a batch is applied in order: claims past the limit within one batch end', async () => {
      const ref = { code: 'batch', key: 'k' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const claims = Array.from({ length: 5 }, (_, i) => claimFor(ref, instantAt(i * MINUTE), { maxRuns: 2, overlap: 'allowAll' }));
      const outcomes = await h.store.claimSlots(claims, { runnerId: 'r', now: instantAt(5 * MINUTE) });
      expect(outcomes.map((o) => o.status)).toEqual(['claimed', 'claimed', 'ended', 'ended', 'ended']);
      expect((await h.store.queryRuns({ code: ref.code })).runs).toHaveLength(2);
    });

    it('a runtime schedule removed and created again counts from 0', async () => {
      const ref = { code: 'again', key: 'tenant' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0), { maxRuns: 1 })], { runnerId: 'r', now: instantAt(0) }))[0]);
      expect(await h.store.removeSchedules([ref])).toEqual([true]);
      await prepareSchedules(h.store, [ref], instantAt(MINUTE));
      expect((await h.store.getStates([ref]))[0]?.scheduledRuns).toBe(0);
      expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(MINUTE), { maxRuns: 1 })], { runnerId: 'r', now: instantAt(MINUTE) }))[0],
      );
    });

    it('rejects a maxRuns that is not an integer ≥ 1, claiming nothing of the batch', async () => {
      const ref = { code: 'bad-limit', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      for (const maxRuns of [0, -1, 1.5, Number.NaN, '3' as unknown as number]) {
        const batch = [claimFor(ref, instantAt(0)), claimFor(ref, instantAt(MINUTE), { maxRuns })];
        await expect(h.store.claimSlots(batch, { runnerId: 'r', now: instantAt(MINUTE) })).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      expect((await h.store.queryRuns({ code: ref.code })).runs).toEqual([]);
      expect((await h.store.getStates([ref]))[0]?.scheduledRuns).toBe(0);
    });

    it('N racing instances claiming 40 distinct slots of a schedule limited to 7 start exactly 7 runs', async () => {
      const refs: ScheduleRef[] = [
        { code: 'race-limit', key: '' },
        { code: 'race-limit', key: 'tenant' },
      ];
      await prepareSchedules(h.store, refs, instantAt(0));
      const racers = await h.openMany(h.raceInstances);
      const now = instantAt(40 * MINUTE);
      const outcomes = await Promise.all(
        racers.map(async (store, i) => {
          // Each racer claims every slot, one claim per call, in its own order: many calls in flight on every slot.
          const answers: [ScheduleRef, ClaimOutcome | undefined][] = [];
          for (let n = 0; n < 40; n += 1) {
            const ref = refs[(n + i) % 2] as ScheduleRef;
            const minute = (n * 7 + i * 11) % 40;
            const [outcome] = await store.claimSlots([claimFor(ref, instantAt(minute * MINUTE), { maxRuns: 7, overlap: 'allowAll' })], {
              runnerId: `runner-${i}`,
              now,
            });
            answers.push([ref, outcome]);
          }
          return answers;
        }),
      );
      for (const ref of refs) {
        const mine = outcomes
          .flat()
          .filter(([r]) => r.key === ref.key)
          .map(([, o]) => o?.status);
        expect(countBy(mine).get('claimed')).toBe(7);
        expect(mine.every((status) => status === 'claimed' || status === 'taken' || status === 'ended')).toBe(true);
        expect((await h.store.queryRuns({ code: ref.code, key: ref.key, limit: 1000 })).runs).toHaveLength(7);
        expect((await h.store.getStates([ref]))[0]).toMatchObject({ scheduledRuns: 7, totalRuns: 7 });
      }
    });
  });
}
