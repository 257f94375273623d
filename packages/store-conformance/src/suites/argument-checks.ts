import { InvalidArgumentError, type ScheduleRef, type Store } from '@tickwork/core';
import type { RunCompletion } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules, scheduleInput } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed } from '../outcomes.js';

const PREFIX = /^\[tickwork\] \[[a-z-]+\] /;
const BEFORE_1970 = new Date('1969-12-31T23:59:00.000Z');

/** The message of the InvalidArgumentError `call` is refused with, after the store's own prefix. */
async function refusal(call: () => Promise<unknown>): Promise<string> {
  const error = await call().then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error, 'the call was refused').toBeInstanceOf(InvalidArgumentError);
  const message = (error as Error).message;
  expect(message).toMatch(PREFIX);
  return message.replace(PREFIX, '');
}

/** What a bad call could have changed: states, runs, run requests, runtime schedules. */
async function snapshot(store: Store): Promise<unknown> {
  return {
    states: await store.getStates(),
    runs: (await store.queryRuns({ limit: 1000 })).runs,
    requests: await store.pendingRunRequests(),
    schedules: (await store.listSchedules()).schedules,
  };
}

/**
 * Argument checks: every store runs core's one argument-checking module, so the same bad input
 * is refused with the same message (after the store's prefix) on every store, before anything
 * changes. Instants before 1970 are refused by every store (Redis's indexes cannot order them).
 */
export function describeArgumentChecks(h: StoreHarness): void {
  describe('argument checks', () => {
    const ref: ScheduleRef = { code: 'ok', key: '' };
    const tenant: ScheduleRef = { code: 'ok', key: 'tenant-1' };

    const cases: [string, (store: Store) => Promise<unknown>, string][] = [
      [
        'a ref with an empty code, second in a batch',
        (s) => s.ensureStates([ref, { code: '', key: '' }], instantAt(0)),
        'ensureStates: refs[1].code must be a non-empty string, got ""',
      ],
      [
        'a ref whose key is not a string',
        (s) => s.setPaused({ code: 'ok', key: 7 } as never, true, { now: instantAt(0) }),
        `setPaused: ref.key (job "ok") must be a string ('' for the job's own schedule), got 7`,
      ],
      [
        'a paused flag that is not a boolean',
        (s) => s.setPaused(ref, 'yes' as never, { now: instantAt(0) }),
        'setPaused: paused must be a boolean, got "yes"',
      ],
      [
        'a negative lease, second in a batch of claims',
        (s) =>
          s.claimSlots([claimFor(ref, instantAt(0)), claimFor({ code: 'bad', key: '' }, instantAt(0), { leaseMs: -5 })], {
            runnerId: 'r',
            now: instantAt(0),
          }),
        'claimSlots: claims[1].leaseMs (job "bad") must be an integer from 1 to 31536000000, got -5',
      ],
      [
        'an unknown trigger',
        (s) => s.claimSlots([claimFor(ref, instantAt(0), { trigger: 'cron' as never })], { runnerId: 'r', now: instantAt(0) }),
        'claimSlots: claims[0].trigger (job "ok") must be one of schedule, retry, manual, force, got "cron"',
      ],
      [
        'a claim context without a runner id',
        (s) => s.claimSlots([claimFor(ref, instantAt(0))], { runnerId: '', now: instantAt(0) }),
        'claimSlots: context.runnerId must be a non-empty string, got ""',
      ],
      [
        'an unknown completion status',
        (s) =>
          s.completeRuns([
            { lease: { code: 'ok', key: '', runId: '1', token: 1 }, status: 'done', finishedAt: instantAt(0) } as unknown as RunCompletion,
          ]),
        'completeRuns: completions[0] (job "ok"): status must be one of succeeded, failed, timed_out, interrupted, skipped, got done',
      ],
      [
        'a run-log page larger than 1000',
        (s) => s.queryRuns({ limit: 1001 }),
        'queryRuns: query.limit must be an integer from 1 to 1000, got 1001',
      ],
      [
        'a partition list that is not a list',
        (s) => s.listSchedules({ partitions: 3 as never }),
        'listSchedules: query.partitions must be a list of partitions (integers 0 to 255), got 3',
      ],
      [
        'partition 256, third in the list',
        (s) => s.listSchedules({ partitions: [0, 1, 256] }),
        'listSchedules: query.partitions[2] must be an integer from 0 to 255, got 256',
      ],
      [
        'partition -1',
        (s) => s.listSchedules({ partitions: [-1] }),
        'listSchedules: query.partitions[0] must be an integer from 0 to 255, got -1',
      ],
      [
        'partition 1.5',
        (s) => s.listSchedules({ partitions: [1.5] }),
        'listSchedules: query.partitions[0] must be an integer from 0 to 255, got 1.5',
      ],
      [
        'a partition given as text',
        (s) => s.listSchedules({ partitions: ['7'] as never }),
        'listSchedules: query.partitions[0] must be an integer from 0 to 255, got "7"',
      ],
      [
        'a partition given twice',
        (s) => s.listSchedules({ partitions: [4, 9, 4] }),
        'listSchedules: query.partitions[2] repeats partition 4',
      ],
      [
        'an invalid date',
        (s) => s.requestRun(ref, { now: new Date(Number.NaN) }),
        'requestRun: options.now must be a valid Date, got Invalid Date',
      ],
      [
        'a reap that is asked for runners with a string',
        (s) => s.reapExpired({ now: instantAt(0), runners: 'yes' as never }),
        'reapExpired: options.runners must be a boolean, got "yes"',
      ],
      [
        'a prune batch of 0',
        (s) => s.pruneRuns({ olderThan: instantAt(0), batchSize: 0 }),
        'pruneRuns: options.batchSize must be an integer from 1 to 100000, got 0',
      ],
      [
        "a job's own schedule where a runtime one is meant",
        (s) => s.getSchedules([tenant, ref]),
        `getSchedules: refs[1].key (job "ok") is '', the job's own schedule, not a runtime one`,
      ],
      [
        'a now before 1970',
        (s) => s.ensureStates([ref], BEFORE_1970),
        'ensureStates: now must not be before 1970-01-01T00:00:00.000Z, got 1969-12-31T23:59:00.000Z',
      ],
      [
        'a slot before 1970',
        (s) => s.claimSlots([claimFor(ref, BEFORE_1970)], { runnerId: 'r', now: instantAt(0) }),
        'claimSlots: claims[0].slotAt (job "ok") must not be before 1970-01-01T00:00:00.000Z, got 1969-12-31T23:59:00.000Z',
      ],
      [
        'a run-log bound before 1970',
        (s) => s.queryRuns({ since: BEFORE_1970 }),
        'queryRuns: query.since must not be before 1970-01-01T00:00:00.000Z, got 1969-12-31T23:59:00.000Z',
      ],
      [
        'an upsert at an instant before 1970',
        (s) => s.upsertSchedules([scheduleInput({ code: 'ok', key: 'tenant-2' })], BEFORE_1970),
        'upsertSchedules: now must not be before 1970-01-01T00:00:00.000Z, got 1969-12-31T23:59:00.000Z',
      ],
    ];

    it('every store refuses the same bad input with the same message, and changes nothing', async () => {
      await prepareSchedules(h.store, [ref, tenant], instantAt(0));
      expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) }))[0]);
      await h.store.requestRun(tenant, { now: instantAt(1) });
      const before = await snapshot(h.store);
      for (const [what, call, message] of cases) {
        expect(await refusal(() => call(h.store)), what).toBe(message);
      }
      expect(await snapshot(h.store)).toEqual(before);
    });
  });
}
