import { InvalidArgumentError, type ScheduleRef } from '@tickwork/core';
import type { PassedSlots, SkippedSlots } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed } from '../outcomes.js';

const MINUTE = 60_000;

function range(fromMinute: number, toMinute: number, reason: SkippedSlots['reason'], count = toMinute - fromMinute + 1): SkippedSlots {
  return {
    firstSlotAt: instantAt(fromMinute * MINUTE),
    lastSlotAt: instantAt(toMinute * MINUTE),
    count,
    reason,
    message: `skipped ${count} slots: ${reason}`,
  };
}

function passed(afterMinute: number | null, ...ranges: SkippedSlots[]): PassedSlots {
  return { after: afterMinute === null ? null : instantAt(afterMinute * MINUTE), ranges };
}

/** Claims `ref`'s slot at `minute` (now = the instant + 1 s) carrying `passedSlots`. */
async function claimPassing(
  h: StoreHarness,
  ref: ScheduleRef,
  minute: number,
  passedSlots: PassedSlots | undefined,
  runnerId = 'r',
  overlap: 'skip' | 'bufferAll' = 'skip',
) {
  const claim = claimFor(ref, instantAt(minute * MINUTE), {
    leaseMs: 10 * MINUTE,
    overlap,
    ...(passedSlots ? { passed: passedSlots } : {}),
  });
  const [outcome] = await h.store.claimSlots([claim], { runnerId, now: instantAt(minute * MINUTE + 1_000) });
  return outcome;
}

async function skippedRecords(h: StoreHarness, ref: ScheduleRef) {
  return (await h.store.queryRuns({ code: ref.code, key: ref.key, status: 'skipped' })).runs.reverse();
}

/** Skipped records with reasons: passed ranges recorded once by the claim that moves past them, overlap skips, the reason filter. */
export function describeSkippedSlots(h: StoreHarness): void {
  describe('skipped slots and their reasons', () => {
    it('a winning claim records each passed range as one skipped record (attempt 0) and the state names the last reason', async () => {
      const ref = { code: 'passed', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const first = expectClaimed(await claimPassing(h, ref, 0, undefined));
      await h.store.completeRuns([{ lease: first.lease, status: 'succeeded', finishedAt: instantAt(2_000) }]);
      expectClaimed(await claimPassing(h, ref, 9000, passed(0, range(1, 4999, 'paused'), range(5000, 8999, 'missed-run-policy'))));
      const records = await skippedRecords(h, ref);
      expect(records).toHaveLength(2);
      expect(records[0]).toMatchObject({
        code: 'passed',
        key: '',
        status: 'skipped',
        attempt: 0,
        trigger: 'schedule',
        slotAt: instantAt(MINUTE),
        rangeLastSlotAt: instantAt(4999 * MINUTE),
        slotCount: 4999,
        skipReason: 'paused',
        message: 'skipped 4999 slots: paused',
        startedAt: instantAt(4999 * MINUTE),
        finishedAt: instantAt(9000 * MINUTE + 1_000),
        durationMs: 0,
        leaseExpiresAt: null,
        runnerId: 'r',
      });
      expect(records[1]).toMatchObject({ slotAt: instantAt(5000 * MINUTE), slotCount: 4000, skipReason: 'missed-run-policy' });
      const [state] = await h.store.getStates([ref]);
      expect(state).toMatchObject({
        lastSkipReason: 'missed-run-policy',
        lastSkippedSlotAt: instantAt(8999 * MINUTE),
        lastSlotAt: instantAt(9000 * MINUTE),
      });
      // A run is one slot and has no reason.
      const [run] = (await h.store.queryRuns({ code: 'passed', status: 'running' })).runs;
      expect(run).toMatchObject({ slotCount: 1, skipReason: null, rangeLastSlotAt: null });
    });

    it('passed slots are recorded only by the claim whose plan is current: a stale plan, a retried claim and a taken slot record nothing', async () => {
      const ref = { code: 'stale-plan', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      expectClaimed(await claimPassing(h, ref, 0, undefined, 'a', 'bufferAll'));
      // Two runners planned from lastSlotAt = 0; a claims 5 passing 1–4 (waits behind its own run), b's plan of 6 is stale.
      const waiting = await claimPassing(h, ref, 5, passed(0, range(1, 4, 'missed-run-policy')), 'a', 'bufferAll');
      expect(waiting?.status).toBe('waiting');
      expect((await claimPassing(h, ref, 6, passed(0, range(1, 5, 'missed-run-policy')), 'b', 'bufferAll'))?.status).toBe('waiting');
      // The same claim again, and a second runner's claim of the same slot: nothing more.
      await claimPassing(h, ref, 5, passed(0, range(1, 4, 'missed-run-policy')), 'a', 'bufferAll');
      await claimPassing(h, ref, 5, passed(0, range(1, 4, 'missed-run-policy')), 'c', 'bufferAll');
      const records = await skippedRecords(h, ref);
      expect(records.map((r) => [r.slotAt.getTime(), r.slotCount])).toEqual([[instantAt(MINUTE).getTime(), 4]]);
    });

    it('busy, paused, unscheduled and non-schedule claims record nothing; an overlap skip records reason overlap', async () => {
      const ref = { code: 'no-record', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const holder = expectClaimed(await claimPassing(h, ref, 0, undefined));
      const backfill = claimFor(ref, instantAt(3 * MINUTE), { backfill: true, passed: passed(0, range(1, 2, 'missed-run-policy')) });
      expect((await h.store.claimSlots([backfill], { runnerId: 'b', now: instantAt(3 * MINUTE) }))[0]?.status).toBe('busy');
      expect(await skippedRecords(h, ref)).toEqual([]);
      const overlap = await claimPassing(h, ref, 4, passed(0, range(1, 3, 'store-outage')), 'b');
      expect(overlap?.status).toBe('overlap');
      const records = await skippedRecords(h, ref);
      expect(records.map((r) => [r.attempt, r.slotCount, r.skipReason])).toEqual([
        [0, 3, 'store-outage'],
        [1, 1, 'overlap'],
      ]);
      let [state] = await h.store.getStates([ref]);
      expect(state).toMatchObject({ lastSkipReason: 'overlap', lastSkippedSlotAt: instantAt(4 * MINUTE) });
      await h.store.completeRuns([{ lease: holder.lease, status: 'succeeded', finishedAt: instantAt(4 * MINUTE + 2_000) }]);
      await h.store.setPaused(ref, true, { now: instantAt(5 * MINUTE) });
      expect((await claimPassing(h, ref, 7, passed(4, range(5, 6, 'paused'))))?.status).toBe('paused');
      await h.store.setPaused(ref, false, { now: instantAt(8 * MINUTE) });
      const retry = claimFor(ref, instantAt(9 * MINUTE), { trigger: 'retry', attempt: 2, passed: passed(4, range(5, 8, 'paused')) });
      expectClaimed((await h.store.claimSlots([retry], { runnerId: 'r', now: instantAt(9 * MINUTE) }))[0]);
      expect(await skippedRecords(h, ref)).toHaveLength(2);
      [state] = await h.store.getStates([ref]);
      expect(state?.lastSlotAt).toEqual(instantAt(4 * MINUTE));
    });

    it('queryRuns filters by reason (one or a list); an unknown reason or a malformed range is refused before anything changes', async () => {
      const ref = { code: 'by-reason', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      expectClaimed(await claimPassing(h, ref, 10, passed(null, range(1, 2, 'window'), range(3, 9, 'dst-gap'))));
      expect((await h.store.queryRuns({ reason: 'window' })).runs.map((r) => r.slotCount)).toEqual([2]);
      expect((await h.store.queryRuns({ reason: ['dst-gap', 'window'] })).runs).toHaveLength(2);
      expect((await h.store.queryRuns({ reason: [] })).runs).toEqual([]);
      expect((await h.store.queryRuns({ reason: 'overlap', status: 'skipped' })).runs).toEqual([]);
      await expect(h.store.queryRuns({ reason: 'later' as never })).rejects.toThrow(InvalidArgumentError);
      const before = (await h.store.queryRuns({ limit: 1000 })).runs;
      const bad: PassedSlots[] = [
        passed(10, range(12, 11, 'paused')),
        passed(10, range(11, 12, 'nope' as never)),
        passed(10, range(11, 20, 'paused')),
        passed(10, { ...range(11, 12, 'paused'), count: 0 }),
        passed(10, range(13, 14, 'paused'), range(11, 12, 'paused')),
      ];
      for (const item of bad) {
        const claims = [claimFor(ref, instantAt(20 * MINUTE), { passed: item })];
        await expect(h.store.claimSlots(claims, { runnerId: 'r', now: instantAt(20 * MINUTE) })).rejects.toThrow(InvalidArgumentError);
      }
      expect((await h.store.queryRuns({ limit: 1000 })).runs).toEqual(before);
    });
  });
}
