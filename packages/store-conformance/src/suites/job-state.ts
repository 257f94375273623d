import { InvalidArgumentError, type ScheduleRef, type ScheduleSpec } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed, expectStateShape } from '../outcomes.js';

const byRef = (a: ScheduleRef, b: ScheduleRef) => (a.code + '\u0000' + a.key).localeCompare(b.code + '\u0000' + b.key);

/** Job state: ensureStates, getStates, setPaused, setScheduleOverride, input validation. */
export function describeJobState(h: StoreHarness): void {
  describe('job state', () => {
    it('ensureStates creates fresh states stamped with now, in request order', async () => {
      const now = instantAt(0);
      const states = await h.store.ensureStates(
        [
          { code: 'b', key: '' },
          { code: 'a', key: 'tenant-1' },
        ],
        now,
      );
      expect(states.map((s) => [s.code, s.key])).toEqual([
        ['b', ''],
        ['a', 'tenant-1'],
      ]);
      for (const state of states) {
        expectStateShape(state);
        expect(state).toMatchObject({
          paused: false,
          pausedNote: null,
          resumedAt: null,
          scheduleOverride: null,
          lastSlotAt: null,
          lastStatus: null,
          lastFinishedAt: null,
          lastAttempt: null,
          lastFinishedSlotAt: null,
          consecutiveFailures: 0,
          totalRuns: 0,
          scheduledRuns: 0,
        });
        expect(state.createdAt.getTime()).toBe(now.getTime());
      }
    });

    it('ensureStates is idempotent: existing states keep createdAt and their values', async () => {
      const ref = { code: 'report', key: '' };
      await h.store.ensureStates([ref], instantAt(0));
      await h.store.setPaused(ref, true, { note: 'maintenance', now: instantAt(1_000) });
      const [again, fresh] = await h.store.ensureStates([ref, { code: 'report', key: 'k2' }], instantAt(60_000));
      expect(again?.createdAt.getTime()).toBe(instantAt(0).getTime());
      expect(again?.paused).toBe(true);
      expect(again?.pausedNote).toBe('maintenance');
      expect(fresh?.createdAt.getTime()).toBe(instantAt(60_000).getTime());
      expect(await h.store.getStates()).toHaveLength(2);
    });

    it('getStates returns every state without refs, and only existing requested ones with refs', async () => {
      const refs = [
        { code: 'a', key: '' },
        { code: 'a', key: 'x' },
        { code: 'b', key: '' },
      ];
      await h.store.ensureStates(refs, instantAt(0));
      const all = await h.store.getStates();
      expect(all.map(({ code, key }) => ({ code, key })).sort(byRef)).toEqual([...refs].sort(byRef));
      all.forEach(expectStateShape);
      const some = await h.store.getStates([
        { code: 'a', key: 'x' },
        { code: 'missing', key: '' },
        { code: 'b', key: '' },
      ]);
      expect(some.map(({ code, key }) => ({ code, key })).sort(byRef)).toEqual([
        { code: 'a', key: 'x' },
        { code: 'b', key: '' },
      ]);
      expect(await h.store.getStates([])).toEqual([]);
    });

    it('setPaused pauses with a note and creates a missing state', async () => {
      const ref = { code: 'never-seen', key: 'k' };
      const paused = await h.store.setPaused(ref, true, { note: 'waiting for the vendor', now: instantAt(5_000) });
      expectStateShape(paused);
      expect(paused).toMatchObject({ code: 'never-seen', key: 'k', paused: true, pausedNote: 'waiting for the vendor' });
      expect(paused.createdAt.getTime()).toBe(instantAt(5_000).getTime());
      const [read] = await h.store.getStates([ref]);
      expect(read).toMatchObject({ paused: true, pausedNote: 'waiting for the vendor' });
    });

    it('resuming sets resumedAt to now and clears the note', async () => {
      const ref = { code: 'job', key: '' };
      await h.store.ensureStates([ref], instantAt(0));
      await h.store.setPaused(ref, true, { note: 'hold', now: instantAt(1_000) });
      const resumed = await h.store.setPaused(ref, false, { now: instantAt(2_000) });
      expect(resumed.paused).toBe(false);
      expect(resumed.pausedNote).toBeNull();
      expect(resumed.resumedAt?.getTime()).toBe(instantAt(2_000).getTime());
      const [read] = await h.store.getStates([ref]);
      expect(read?.paused).toBe(false);
      expect(read?.resumedAt?.getTime()).toBe(instantAt(2_000).getTime());
      expect(read?.createdAt.getTime()).toBe(instantAt(0).getTime());
    });

    it('resuming a schedule that is not paused leaves resumedAt alone', async () => {
      const ref = { code: 'job', key: '' };
      await h.store.ensureStates([ref], instantAt(0));
      const resumed = await h.store.setPaused(ref, false, { now: instantAt(2_000) });
      expect(resumed).toMatchObject({ paused: false, resumedAt: null });
      await h.store.setPaused(ref, true, { now: instantAt(3_000) });
      await h.store.setPaused(ref, false, { now: instantAt(4_000) });
      const again = await h.store.setPaused(ref, false, { now: instantAt(5_000) });
      expect(again.resumedAt?.getTime()).toBe(instantAt(4_000).getTime());
    });

    it('a schedule override round-trips as JSON and is cleared by null', async () => {
      const ref = { code: 'digest', key: 'tenant-9' };
      const specs: ScheduleSpec[] = [
        { kind: 'cron', expression: '*/15 9-17 * * 1-5', timezone: 'Europe/Paris' },
        { kind: 'daily', times: ['06:00', '18:30:15'], weekdays: [1, 3, 5], monthDays: [1, 15], timezone: 'America/Santiago' },
        { kind: 'every', everyMs: 90_000, anchor: '2030-01-01T00:00:30.000Z' },
        { kind: 'once', at: '2030-02-01T12:00:00.000Z' },
      ];
      for (const [i, spec] of specs.entries()) {
        const set = await h.store.setScheduleOverride(ref, spec, instantAt(i * 1_000));
        expect(set.scheduleOverride).toEqual(spec);
        const [read] = await h.store.getStates([ref]);
        expect(read?.scheduleOverride).toEqual(spec);
      }
      const cleared = await h.store.setScheduleOverride(ref, null, instantAt(10_000));
      expect(cleared.scheduleOverride).toBeNull();
      const [read] = await h.store.getStates([ref]);
      expect(read?.scheduleOverride).toBeNull();
      expect(read?.createdAt.getTime()).toBe(instantAt(0).getTime());
    });

    it('rejects an empty code or a non-string key with InvalidArgumentError and creates nothing', async () => {
      await expect(
        h.store.ensureStates(
          [
            { code: 'ok', key: '' },
            { code: '', key: '' },
          ],
          instantAt(0),
        ),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      const badKey = { code: 'ok', key: 42 } as unknown as ScheduleRef;
      await expect(h.store.ensureStates([{ code: 'ok', key: '' }, badKey], instantAt(0))).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(h.store.setPaused({ code: '', key: '' }, true, { now: instantAt(0) })).rejects.toBeInstanceOf(InvalidArgumentError);
      const badCode = { code: null, key: '' } as unknown as ScheduleRef;
      await expect(h.store.setScheduleOverride(badCode, null, instantAt(0))).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(h.store.requestRun({ code: '', key: '' }, { now: instantAt(0) })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await h.store.getStates()).toEqual([]);
      expect(await h.store.pendingRunRequests()).toEqual([]);
    });

    it('a closed instance leaves the data for the next one opened on the same backend', async () => {
      const ref = { code: 'kept', key: 'k' };
      const other = { code: 'kept', key: 'other' };
      await prepareSchedules(h.store, [ref, other], instantAt(0));
      await h.store.setPaused(ref, true, { note: 'n', now: instantAt(0) });
      await h.store.requestRun(ref, { now: instantAt(1) });
      const [outcome] = await h.store.claimSlots([claimFor(other, instantAt(0))], { runnerId: 'r', now: instantAt(2) });
      const { run, lease } = expectClaimed(outcome);
      await h.close(h.store);
      const reopened = await h.open();
      const [state] = await reopened.getStates([ref]);
      expect(state).toMatchObject({ code: 'kept', key: 'k', paused: true, pausedNote: 'n' });
      expect(await reopened.pendingRunRequests()).toHaveLength(1);
      expect(await reopened.getRun(run.id)).toEqual(run);
      // The lease outlives the instance that took it: its owner may reconnect and finish the run.
      const [done] = await reopened.completeRuns([{ lease, status: 'succeeded', finishedAt: instantAt(3) }]);
      expect(done?.status).toBe('completed');
    });
  });
}
