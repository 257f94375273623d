import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  createMemoryBackend,
  createMemoryStore,
  createScheduler,
  defineJob,
  every,
  InvalidArgumentError,
  InvalidJobError,
  runDue,
  type JobDefinition,
  type RunContext,
} from '../src/index.js';
import { nextDueAt, planDue, remainingRuns } from '../src/entry/runner.js';
import { initialJobState } from '../src/job-state.js';

const T0 = '2026-03-02T12:00:00.000Z';
const MINUTE = 60_000;

function setup(definition: Partial<JobDefinition> = {}) {
  const backend = createMemoryBackend();
  const store = createMemoryStore({ backend });
  const clock = createFakeClock(T0);
  const ran: string[] = [];
  const job = defineJob({
    code: 'limited',
    schedule: every('1m'),
    maxRuns: 3,
    run: (ctx: RunContext) => void ran.push(`${ctx.key}@${ctx.slot.toISOString()}#${ctx.attempt}:${ctx.trigger}`),
    ...definition,
  });
  const jobs = [job];
  const tick = (runnerId = 'r') => runDue({ jobs, store, clock, runnerId });
  return { backend, store, clock, ran, job, jobs, tick, scheduler: createScheduler({ jobs, store, clock }) };
}

describe('maxRuns', () => {
  it('ends a job after its N scheduled runs: the tick reports ended and no next run', async () => {
    const { clock, ran, tick, store } = setup();
    for (let i = 0; i < 3; i += 1) {
      clock.set(new Date(Date.parse(T0) + i * MINUTE + 5));
      expect((await tick()).results.map((r) => r.outcome)).toEqual(['succeeded']);
    }
    clock.advance(MINUTE);
    const report = await tick();
    expect(report.results).toMatchObject([
      { outcome: 'ended', nextSlotAt: null, reason: 'schedule ended: its 3 scheduled runs (maxRuns) were claimed' },
    ]);
    expect(report.ok).toBe(true);
    expect(ran).toHaveLength(3);
    expect((await store.getStates())[0]).toMatchObject({ scheduledRuns: 3, totalRuns: 3 });
  });

  it('plans no more slots than runs are left, and a catch-up of missed slots stops at the limit', async () => {
    const { job, clock } = setup({ missedRunPolicy: { all: { within: '1h' } } });
    const state = { ...initialJobState({ code: 'limited', key: '' }, new Date(Date.parse(T0) - 10 * MINUTE)), scheduledRuns: 1 };
    const schedule = { job, key: '', schedule: null, state, now: clock.now() };
    const { jobSchedule } = await import('../src/job.js');
    const compiled = jobSchedule(job);
    const claims = planDue({ ...schedule, schedule: compiled });
    expect(claims).toHaveLength(2);
    expect(claims.every((c) => c.maxRuns === 3 && c.trigger === 'schedule')).toBe(true);
    expect(remainingRuns(job, state)).toBe(2);
    const done = { ...state, scheduledRuns: 3 };
    expect(planDue({ ...schedule, schedule: compiled, state: done })).toEqual([]);
    expect(nextDueAt({ ...schedule, schedule: compiled, state: done })).toBeNull();
    expect(remainingRuns(job, done)).toBe(0);
    expect(remainingRuns(defineJob({ code: 'free', schedule: every('1m'), run: () => undefined }), done)).toBeNull();
  });

  it('retries a failed last run and still takes run-now requests after the end', async () => {
    let fail = true;
    const { clock, ran, tick, store } = setup({
      maxRuns: 1,
      retryAfterFailure: '1m',
      run: (ctx: RunContext) => {
        ran.push(`${ctx.slot.toISOString()}#${ctx.attempt}:${ctx.trigger}`);
        if (fail) throw new Error('boom');
      },
    });
    clock.set(Date.parse(T0) + 5);
    expect((await tick()).results[0]?.outcome).toBe('failed');
    fail = false;
    clock.advance(MINUTE);
    expect((await tick()).results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(ran.at(-1)).toBe('2026-03-02T12:00:00.000Z#2:retry');
    clock.advance(MINUTE);
    expect((await tick()).results.map((r) => r.outcome)).toEqual(['ended']);
    await store.requestRun({ code: 'limited', key: '' }, { now: clock.now() });
    expect((await tick()).results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(ran.at(-1)).toMatch(/#1:manual$/);
  });

  it('of a runtime schedule: its own limit over its job’s, each schedule counting its own runs', async () => {
    const { clock, ran, tick, scheduler } = setup({ schedule: null, maxRuns: 2 });
    const schedules = scheduler.schedules('limited');
    await schedules.upsert([
      { key: 'own', schedule: every('1m'), maxRuns: 1 },
      { key: 'inherits', schedule: every('1m') },
    ]);
    expect((await schedules.get('own'))?.options).toEqual({ maxRuns: 1 });
    for (let i = 1; i <= 4; i += 1) {
      clock.set(Date.parse(T0) + i * MINUTE + 5);
      await tick();
    }
    expect(ran.filter((r) => r.startsWith('own@'))).toHaveLength(1);
    expect(ran.filter((r) => r.startsWith('inherits@'))).toHaveLength(2);
  });

  it('two runners ticking the same store at once start exactly N runs', async () => {
    const { backend, clock, ran, jobs, store } = setup({ maxRuns: 4, missedRunPolicy: { all: { within: '1h' } } });
    // The store met the schedule 10 minutes ago: 10 missed slots are owed, 4 may run.
    await store.ensureStates([{ code: 'limited', key: '' }], clock.now());
    clock.set(Date.parse(T0) + 10 * MINUTE + 5);
    const other = createMemoryStore({ backend });
    await Promise.all([
      runDue({ jobs, store: createMemoryStore({ backend }), clock, runnerId: 'a' }),
      runDue({ jobs, store: other, clock, runnerId: 'b' }),
    ]);
    expect(ran).toHaveLength(4);
    expect((await other.getStates())[0]?.scheduledRuns).toBe(4);
  });

  it.each([0, -1, 1.5, Number.NaN, '3', null])('refuses maxRuns %s naming the job and the field', (maxRuns) => {
    expect(() => defineJob({ code: 'bad', schedule: every('1m'), maxRuns: maxRuns as number, run: () => undefined })).toThrow(
      InvalidJobError,
    );
    expect(() => defineJob({ code: 'bad', schedule: every('1m'), maxRuns: maxRuns as number, run: () => undefined })).toThrow(
      /^\[tickwork\] job "bad": maxRuns must be an integer ≥ 1 \(scheduled runs before the schedule ends\), got /,
    );
  });

  it.each([0, -2, 2.5, 'x'])(
    'refuses a runtime schedule with maxRuns %s naming the job, the key and the field, storing nothing',
    async (maxRuns) => {
      const { scheduler, store } = setup({ schedule: null });
      await expect(
        scheduler.schedules('limited').upsert({ key: 'acme', schedule: every('1m'), maxRuns: maxRuns as number }),
      ).rejects.toThrow(InvalidArgumentError);
      await expect(
        scheduler.schedules('limited').upsert({ key: 'acme', schedule: every('1m'), maxRuns: maxRuns as number }),
      ).rejects.toThrow('job "limited" schedule "acme": maxRuns must be an integer ≥ 1');
      expect((await store.listSchedules()).schedules).toEqual([]);
      // A store refuses it too, when given directly.
      await expect(
        store.upsertSchedules(
          [
            {
              code: 'limited',
              key: 'acme',
              schedule: { kind: 'every', everyMs: MINUTE },
              timezone: null,
              payload: null,
              enabled: true,
              startAt: null,
              expiresAt: null,
              description: null,
              options: { maxRuns: maxRuns as number },
            },
          ],
          clock0(),
        ),
      ).rejects.toThrow('options.maxRuns must be an integer ≥ 1');
    },
  );
});

function clock0(): Date {
  return new Date(T0);
}
