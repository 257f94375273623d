import { InvalidArgumentError, type OverlapPolicy, type ScheduleRef } from '@tickwork/core';
import type { RunRequest } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy, expectClaimed, expectCompleted, expectOverlap } from '../outcomes.js';

/** The claim of one run-now request, as runners make it. */
function requestClaim(request: RunRequest, overlap: OverlapPolicy = 'skip') {
  return claimFor(request, request.requestedAt, { trigger: 'manual', requestId: request.id, overlap });
}

/** "Run now" requests: filing, listing, and consumption by the claim that names them (exactly once, atomically). */
export function describeRunRequests(h: StoreHarness): void {
  describe('run requests', () => {
    it('requestRun files a request that pendingRunRequests lists, oldest first', async () => {
      await prepareSchedules(h.store, [{ code: 'digest', key: 'tenant-1' }], instantAt(0));
      const a = await h.store.requestRun({ code: 'report', key: '' }, { now: instantAt(2_000), requestedBy: 'alice' });
      const b = await h.store.requestRun({ code: 'digest', key: 'tenant-1' }, { now: instantAt(1_000) });
      const c = await h.store.requestRun({ code: 'report', key: '' }, { now: instantAt(3_000), requestedBy: null });
      expect(typeof a.id).toBe('string');
      expect(a.requestedAt).toBeInstanceOf(Date);
      expect(a).toMatchObject({ code: 'report', key: '', requestedBy: 'alice' });
      expect(b.requestedBy).toBeNull();
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      const pending = await h.store.pendingRunRequests();
      expect(pending).toEqual([b, a, c]);
      expect(await h.store.pendingRunRequests({ codes: ['report'] })).toEqual([a, c]);
      expect(await h.store.pendingRunRequests({ codes: ['report', 'digest'] })).toEqual([b, a, c]);
      expect(await h.store.pendingRunRequests({ codes: ['nobody'] })).toEqual([]);
      expect(await h.store.pendingRunRequests()).toEqual([b, a, c]);
    });

    it('a claim naming a request consumes it with the claim: the run carries the request id, a second claim is taken', async () => {
      const ref = { code: 'now-job', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const request = await h.store.requestRun(ref, { now: instantAt(1_500), requestedBy: 'ops' });
      const [outcome] = await h.store.claimSlots([requestClaim(request)], { runnerId: 'a', now: instantAt(2_000) });
      const { run } = expectClaimed(outcome);
      expect(run).toMatchObject({ trigger: 'manual', requestId: request.id, attempt: 1, status: 'running', cancelRequested: false });
      expect(run.slotAt.getTime()).toBe(request.requestedAt.getTime());
      expect(await h.store.pendingRunRequests()).toEqual([]);
      expect(await h.store.claimSlots([requestClaim(request)], { runnerId: 'b', now: instantAt(2_001) })).toEqual([{ status: 'taken' }]);
      // The same runner retrying after a lost answer gets its own run back.
      const [again] = await h.store.claimSlots([requestClaim(request)], { runnerId: 'a', now: instantAt(2_002) });
      expect(expectClaimed(again).run).toEqual(run);
      const [state] = await h.store.getStates([ref]);
      expect(state?.totalRuns).toBe(1);
      expect(state?.lastSlotAt).toBeNull();
    });

    it('a request has its own identity: a scheduled slot of the same instant and two requests in one second each run once', async () => {
      const ref = { code: 'same-second', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const scheduled = expectClaimed(
        (await h.store.claimSlots([claimFor(ref, instantAt(60_000))], { runnerId: 'a', now: instantAt(60_000) }))[0],
      );
      await h.store.completeRuns([{ lease: scheduled.lease, status: 'succeeded', finishedAt: instantAt(60_100) }]);
      const first = await h.store.requestRun(ref, { now: instantAt(60_000) });
      const second = await h.store.requestRun(ref, { now: instantAt(60_000) });
      const outcomes = await h.store.claimSlots([requestClaim(first, 'allowAll'), requestClaim(second, 'allowAll')], {
        runnerId: 'b',
        now: instantAt(60_200),
      });
      const runs = outcomes.map((o) => expectClaimed(o).run);
      expect(runs.map((r) => r.requestId)).toEqual([first.id, second.id]);
      expect(new Set([scheduled.run.id, ...runs.map((r) => r.id)]).size).toBe(3);
      expect((await h.store.queryRuns({ code: ref.code })).runs).toHaveLength(3);
    });

    it("a paused schedule's request stays pending (claim answers paused) and is claimed after the resume", async () => {
      const ref = { code: 'paused-now', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      await h.store.setPaused(ref, true, { now: instantAt(0) });
      const request = await h.store.requestRun(ref, { now: instantAt(1_000) });
      expect(await h.store.claimSlots([requestClaim(request)], { runnerId: 'a', now: instantAt(1_000) })).toEqual([{ status: 'paused' }]);
      expect(await h.store.pendingRunRequests()).toEqual([request]);
      await h.store.setPaused(ref, false, { now: instantAt(2_000) });
      expectClaimed((await h.store.claimSlots([requestClaim(request)], { runnerId: 'a', now: instantAt(2_000) }))[0]);
    });

    it('a request while the job runs follows the overlap policy: skip consumes it as a skipped run, bufferAll keeps it pending until the run ends', async () => {
      const ref = { code: 'busy-now', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const holder = expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'a', now: instantAt(0) }))[0]);
      const skipped = await h.store.requestRun(ref, { now: instantAt(1_000) });
      const skip = expectOverlap((await h.store.claimSlots([requestClaim(skipped, 'skip')], { runnerId: 'b', now: instantAt(1_000) }))[0]);
      expect(skip).toMatchObject({ status: 'skipped', requestId: skipped.id, trigger: 'manual' });
      const waiting = await h.store.requestRun(ref, { now: instantAt(2_000) });
      expect(await h.store.claimSlots([requestClaim(waiting, 'bufferAll')], { runnerId: 'b', now: instantAt(2_000) })).toEqual([
        { status: 'busy' },
      ]);
      expect(await h.store.pendingRunRequests()).toEqual([waiting]);
      await h.store.completeRuns([{ lease: holder.lease, status: 'succeeded', finishedAt: instantAt(3_000) }]);
      expect(
        expectClaimed((await h.store.claimSlots([requestClaim(waiting, 'bufferAll')], { runnerId: 'b', now: instantAt(3_000) }))[0]).run
          .requestId,
      ).toBe(waiting.id);
      expect(await h.store.pendingRunRequests()).toEqual([]);
    });

    it('a claim naming an unknown request, or one filed for another schedule, is taken and consumes nothing', async () => {
      const ref = { code: 'owner', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const request = await h.store.requestRun({ code: 'someone-else', key: '' }, { now: instantAt(0) });
      expect(await h.store.claimSlots([{ ...requestClaim(request), code: ref.code }], { runnerId: 'a', now: instantAt(1) })).toEqual([
        { status: 'taken' },
      ]);
      expect(
        await h.store.claimSlots([{ ...requestClaim(request), requestId: 'no-such-request' }], { runnerId: 'a', now: instantAt(1) }),
      ).toEqual([{ status: 'taken' }]);
      expect(await h.store.pendingRunRequests()).toEqual([request]);
      expect((await h.store.queryRuns({})).runs).toEqual([]);
    });

    it("rejects trigger 'manual' without a requestId, and a requestId without trigger 'manual', claiming nothing", async () => {
      const ref = { code: 'strict', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const request = await h.store.requestRun(ref, { now: instantAt(0) });
      const context = { runnerId: 'a', now: instantAt(1) };
      await expect(h.store.claimSlots([claimFor(ref, instantAt(0), { trigger: 'manual' })], context)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(h.store.claimSlots([claimFor(ref, instantAt(0), { requestId: request.id })], context)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(h.store.pendingRunRequests({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await h.store.pendingRunRequests()).toEqual([request]);
      expect((await h.store.queryRuns({})).runs).toEqual([]);
    });

    it('each request is claimed by exactly one of N racing instances, and runs once', async () => {
      const refs: ScheduleRef[] = Array.from({ length: 40 }, (_, i) => ({ code: `c${i % 4}`, key: `k${i}` }));
      await prepareSchedules(h.store, refs, instantAt(0));
      const made: RunRequest[] = [];
      for (const [i, ref] of refs.entries()) made.push(await h.store.requestRun(ref, { now: instantAt(i) }));
      const racers = await h.openMany(h.raceInstances);
      const answers = await Promise.all(
        racers.map((store, i) =>
          store.claimSlots(
            made.map((r) => requestClaim(r)),
            { runnerId: `runner-${i}`, now: instantAt(1_000) },
          ),
        ),
      );
      const claimed = answers
        .flat()
        .filter((o) => o.status === 'claimed')
        .map((o) => expectClaimed(o).run.requestId);
      expect(claimed).toHaveLength(40);
      expect([...countBy(claimed).values()].every((n) => n === 1)).toBe(true);
      expect(answers.flat().every((o) => o.status === 'claimed' || o.status === 'taken')).toBe(true);
      expect(await h.store.pendingRunRequests()).toEqual([]);
      const [done] = await h.store.completeRuns([
        {
          lease: expectClaimed(answers.flat().find((o) => o.status === 'claimed')).lease,
          status: 'succeeded',
          finishedAt: instantAt(2_000),
        },
      ]);
      expectCompleted(done);
    });
  });
}
