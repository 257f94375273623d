import { InvalidArgumentError, type JobState, type ScheduleRef, type Store } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules, scheduleInput } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed, expectCompleted, expectStateShape } from '../outcomes.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WINDOW = 2 * HOUR;

const time = (date: Date | null | undefined): number | null => (date ? date.getTime() : null);

/** Claims and completes one run of `ref` at `slotMs` with `status`, finishing at `finishMs`; returns the completion's state. */
async function finish(
  store: Store,
  ref: ScheduleRef,
  slotMs: number,
  finishMs: number,
  status: 'succeeded' | 'failed' | 'timed_out',
): Promise<JobState> {
  const { lease } = expectClaimed(
    (await store.claimSlots([claimFor(ref, instantAt(slotMs))], { runnerId: 'r', now: instantAt(slotMs) }))[0],
  );
  return expectCompleted((await store.completeRuns([{ lease, status, finishedAt: instantAt(finishMs) }]))[0]).state;
}

/**
 * Failure streaks (what `onRecovery` is told) and dead-man alerts (`claimOverdue`): kept by the
 * store in the same atomic operation as the completion, reap or claim, so exactly one runner
 * sees each recovery and each overdue episode. Every test runs on the callers' clock.
 */
export function describeDeadMan(h: StoreHarness): void {
  describe('failure streaks and dead-man alerts', () => {
    it('a streak of failed, timed-out and reaped runs keeps its start; the success ending it reports it once', async () => {
      const ref = { code: 'streaky', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const first = await finish(h.store, ref, 0, 1_000, 'failed');
      expect([first.consecutiveFailures, time(first.failingSince), first.endedStreak, first.lastSucceededAt]).toEqual([
        1,
        instantAt(1_000).getTime(),
        0,
        null,
      ]);
      const second = await finish(h.store, ref, MINUTE, MINUTE + 500, 'timed_out');
      expect([second.consecutiveFailures, time(second.failingSince)]).toEqual([2, instantAt(1_000).getTime()]);
      // The third failure: a run whose runner died, interrupted by a reap.
      expectClaimed(
        (
          await h.store.claimSlots([claimFor(ref, instantAt(2 * MINUTE), { leaseMs: 1_000 })], {
            runnerId: 'dead',
            now: instantAt(2 * MINUTE),
          })
        )[0],
      );
      const [reaped] = await h.store.reapExpired({ now: instantAt(3 * MINUTE) });
      expect(reaped?.state).toMatchObject({ consecutiveFailures: 3, endedStreak: 0 });
      expect(time(reaped?.state?.failingSince)).toBe(instantAt(1_000).getTime());
      const success = await finish(h.store, ref, 4 * MINUTE, 4 * MINUTE + 200, 'succeeded');
      expectStateShape(success);
      expect(success).toMatchObject({ consecutiveFailures: 0, failingSince: null, endedStreak: 3, lastStatus: 'succeeded' });
      expect(time(success.endedStreakStartedAt)).toBe(instantAt(1_000).getTime());
      expect(time(success.lastSucceededAt)).toBe(instantAt(4 * MINUTE + 200).getTime());
      expect((await h.store.getStates([ref]))[0]).toEqual(success);
      // The next success ended no streak: nothing to report again.
      const again = await finish(h.store, ref, 5 * MINUTE, 5 * MINUTE + 100, 'succeeded');
      expect(again).toMatchObject({ endedStreak: 0, endedStreakStartedAt: null, endedOverdueAlertedAt: null });
      expect(time(again.lastSucceededAt)).toBe(instantAt(5 * MINUTE + 100).getTime());
      // A new streak starts at its own first failure.
      const next = await finish(h.store, ref, 6 * MINUTE, 6 * MINUTE + 100, 'failed');
      expect([next.consecutiveFailures, time(next.failingSince), time(next.lastSucceededAt)]).toEqual([
        1,
        instantAt(6 * MINUTE + 100).getTime(),
        instantAt(5 * MINUTE + 100).getTime(),
      ]);
    });

    it("a run interrupted by the next slot's claim counts in the streak like any failure", async () => {
      const ref = { code: 'taken-over', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(0), { leaseMs: 1_000 })], { runnerId: 'dead', now: instantAt(0) }))[0],
      );
      const [next] = await h.store.claimSlots([claimFor(ref, instantAt(MINUTE))], { runnerId: 'r', now: instantAt(MINUTE) });
      const { lease } = expectClaimed(next);
      expect(next?.reaped?.[0]?.state).toMatchObject({ consecutiveFailures: 1 });
      expect(time(next?.reaped?.[0]?.state?.failingSince)).toBe(instantAt(MINUTE).getTime());
      const done = expectCompleted(
        (await h.store.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(MINUTE + 10) }]))[0],
      ).state;
      expect(done.endedStreak).toBe(1);
      expect(time(done.endedStreakStartedAt)).toBe(instantAt(MINUTE).getTime());
    });

    it('completions of one schedule in one batch each report the state after themselves', async () => {
      const ref = { code: 'batched', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const claims = [
        claimFor(ref, instantAt(0), { overlap: 'allowAll' }),
        claimFor(ref, instantAt(MINUTE), { overlap: 'allowAll' }),
        claimFor(ref, instantAt(2 * MINUTE), { overlap: 'allowAll' }),
      ];
      const outcomes = await h.store.claimSlots(claims, { runnerId: 'r', now: instantAt(2 * MINUTE) });
      const leases = outcomes.map((o) => expectClaimed(o).lease);
      const done = await h.store.completeRuns([
        { lease: leases[0]!, status: 'failed', finishedAt: instantAt(3 * MINUTE) },
        { lease: leases[1]!, status: 'succeeded', finishedAt: instantAt(3 * MINUTE + 1) },
        { lease: leases[2]!, status: 'succeeded', finishedAt: instantAt(3 * MINUTE + 2) },
      ]);
      const states = done.map((o) => expectCompleted(o).state);
      expect(states.map((s) => [s.consecutiveFailures, s.endedStreak, time(s.endedStreakStartedAt)])).toEqual([
        [1, 0, null],
        [0, 1, instantAt(3 * MINUTE).getTime()],
        [0, 0, null],
      ]);
    });

    it('on a fake clock: overdue once the window passes with no success, handed to exactly one of many racing callers, again after the next window', async () => {
      const ref = { code: 'nightly', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const windows = [{ ...ref, expectSuccessWithinMs: WINDOW }];
      // Within the window (counted from the state's creation: it never succeeded): nothing.
      expect(await h.store.claimOverdue({ now: instantAt(WINDOW - 1), windows })).toEqual([]);
      const [stored] = await h.store.getStates([ref]);
      expect(stored?.expectSuccessWithinMs).toBe(WINDOW);
      // The window ran out: racing instances (no windows of their own: the store kept them) — exactly one gets it.
      const racers = await h.openMany(h.raceInstances);
      const answers = await Promise.all(racers.map((store, i) => store.claimOverdue({ now: instantAt(WINDOW + i) })));
      const winners = answers.flatMap((states, i) => states.map((state) => ({ state, i })));
      expect(winners).toHaveLength(1);
      const alerted = winners[0]!.state;
      expectStateShape(alerted);
      expect(alerted).toMatchObject({ code: 'nightly', key: '', expectSuccessWithinMs: WINDOW, lastSucceededAt: null });
      expect(time(alerted.overdueAlertedAt)).toBe(instantAt(WINDOW + winners[0]!.i).getTime());
      // Once per episode: later checks, however late, get nothing while no success came.
      expect(await h.store.claimOverdue({ now: instantAt(10 * WINDOW), windows })).toEqual([]);
      // A success ends the episode: the completion reports the alert it ended and clears it.
      const success = await finish(h.store, ref, 3 * HOUR, 3 * HOUR + 1_000, 'succeeded');
      expect(time(success.endedOverdueAlertedAt)).toBe(time(alerted.overdueAlertedAt));
      expect(success).toMatchObject({ overdueAlertedAt: null, endedStreak: 0 });
      // The next window counts from that success.
      const successAt = 3 * HOUR + 1_000;
      expect(await h.store.claimOverdue({ now: instantAt(successAt + WINDOW - 1) })).toEqual([]);
      const [again] = await h.store.claimOverdue({ now: instantAt(successAt + WINDOW) });
      expect(time(again?.overdueAlertedAt)).toBe(instantAt(successAt + WINDOW).getTime());
      expect(time(again?.lastSucceededAt)).toBe(instantAt(successAt).getTime());
      // A failure does not end an episode; the success after it ends both the streak and the episode.
      await finish(h.store, ref, successAt + WINDOW + MINUTE, successAt + WINDOW + MINUTE + 10, 'failed');
      expect(await h.store.claimOverdue({ now: instantAt(successAt + 3 * WINDOW) })).toEqual([]);
      const recovered = await finish(h.store, ref, successAt + 3 * WINDOW, successAt + 3 * WINDOW + 10, 'succeeded');
      expect(recovered.endedStreak).toBe(1);
      expect(time(recovered.endedOverdueAlertedAt)).toBe(instantAt(successAt + WINDOW).getTime());
    });

    it('a paused schedule still goes overdue (a pause forgotten); a cleared window never does', async () => {
      const paused = { code: 'forgotten', key: '' };
      const cleared = { code: 'cleared', key: '' };
      await prepareSchedules(h.store, [paused, cleared], instantAt(0));
      await h.store.setPaused(paused, true, { note: 'until the migration is done', now: instantAt(10) });
      await h.store.claimOverdue({
        now: instantAt(0),
        windows: [
          { ...paused, expectSuccessWithinMs: WINDOW },
          { ...cleared, expectSuccessWithinMs: WINDOW },
        ],
      });
      await h.store.claimOverdue({ now: instantAt(1), windows: [{ ...cleared, expectSuccessWithinMs: null }] });
      const due = await h.store.claimOverdue({ now: instantAt(WINDOW) });
      expect(due.map((s) => [s.code, s.paused])).toEqual([['forgotten', true]]);
      expect((await h.store.getStates([cleared]))[0]?.expectSuccessWithinMs).toBeNull();
    });

    it('codes limits the schedules handed out; limit caps them, oldest due first; windows of missing states are ignored', async () => {
      const refs = [
        { code: 'a', key: '' },
        { code: 'b', key: '' },
        { code: 'c', key: '' },
      ];
      await prepareSchedules(h.store, refs, instantAt(0));
      // c's window is the shortest, so it is due first; then a, then b.
      const windows = [
        { ...refs[0]!, expectSuccessWithinMs: 2 * HOUR },
        { ...refs[1]!, expectSuccessWithinMs: 3 * HOUR },
        { ...refs[2]!, expectSuccessWithinMs: HOUR },
        { code: 'never-seen', key: '', expectSuccessWithinMs: 1_000 },
      ];
      expect(await h.store.claimOverdue({ now: instantAt(0), windows, codes: [] })).toEqual([]);
      expect(await h.store.getStates([{ code: 'never-seen', key: '' }])).toEqual([]);
      const now = instantAt(4 * HOUR);
      expect((await h.store.claimOverdue({ now, codes: ['b'] })).map((s) => s.code)).toEqual(['b']);
      expect((await h.store.claimOverdue({ now, limit: 1 })).map((s) => s.code)).toEqual(['c']);
      expect((await h.store.claimOverdue({ now })).map((s) => s.code)).toEqual(['a']);
      expect(await h.store.claimOverdue({ now })).toEqual([]);
    });

    it('a runtime schedule created again starts with no streak and no alert', async () => {
      const ref = { code: 'tenant', key: 'acme' };
      await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
      await finish(h.store, ref, 0, 100, 'failed');
      const [alerted] = await h.store.claimOverdue({ now: instantAt(WINDOW), windows: [{ ...ref, expectSuccessWithinMs: WINDOW }] });
      expect(alerted?.consecutiveFailures).toBe(1);
      await h.store.removeSchedules([ref]);
      await h.store.upsertSchedules([scheduleInput(ref)], instantAt(3 * HOUR));
      const [fresh] = await h.store.getStates([ref]);
      expect(fresh).toMatchObject({
        consecutiveFailures: 0,
        failingSince: null,
        lastSucceededAt: null,
        expectSuccessWithinMs: null,
        overdueAlertedAt: null,
        endedStreak: 0,
      });
    });

    it('refuses bad input with InvalidArgumentError and changes nothing', async () => {
      const ref = { code: 'guarded', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const good = { ...ref, expectSuccessWithinMs: HOUR };
      const bad: unknown[] = [
        { now: new Date(Number.NaN) },
        { now: '2030-01-07T00:00:00Z' },
        { now: instantAt(0), windows: [good, { ...ref, expectSuccessWithinMs: 0 }] },
        { now: instantAt(0), windows: [good, { ...ref, expectSuccessWithinMs: -5 }] },
        { now: instantAt(0), windows: [good, { ...ref, expectSuccessWithinMs: 1.5 }] },
        { now: instantAt(0), windows: [good, { ...ref, expectSuccessWithinMs: '2h' }] },
        { now: instantAt(0), windows: [good, { code: '', key: '', expectSuccessWithinMs: HOUR }] },
        { now: instantAt(0), windows: good },
        { now: instantAt(0), windows: [good], codes: 'guarded' },
        { now: instantAt(0), windows: [good], limit: 0 },
        { now: instantAt(0), windows: [good], limit: 1_001 },
      ];
      for (const options of bad) {
        await expect(h.store.claimOverdue(options as Parameters<Store['claimOverdue']>[0]), JSON.stringify(options)).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
      }
      expect((await h.store.getStates([ref]))[0]?.expectSuccessWithinMs).toBeNull();
    });
  });
}
