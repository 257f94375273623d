import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  createMemoryStore,
  createScheduler,
  dailyAt,
  defineJob,
  every,
  InvalidArgumentError,
  once,
  InvalidJobError,
  InvalidScheduleError,
  runDue,
  UnknownJobError,
  type RunContext,
  type RuntimeSchedule,
  type Store,
} from '../src/index.js';
import { checkPayload, MAX_PAYLOAD_BYTES } from '../src/entry/store.js';
import { runtimeJob } from '../src/entry/runner.js';

const T0 = '2026-03-02T12:00:30.000Z';

function setup(schedule: string | null = '0 3 * * *') {
  const store = createMemoryStore();
  const clock = createFakeClock(T0);
  const seen: Array<{ key: string; payload: unknown; slot: string; trigger: string }> = [];
  const jobs = [
    defineJob({
      code: 'report',
      schedule,
      run: (ctx: RunContext) => void seen.push({ key: ctx.key, payload: ctx.payload, slot: ctx.slot.toISOString(), trigger: ctx.trigger }),
    }),
  ];
  const scheduler = createScheduler({ jobs, store, clock });
  const tick = () => runDue({ jobs, store, clock, runnerId: 'test' });
  return { store, clock, seen, scheduler, tick, schedules: scheduler.schedules('report') };
}

async function snapshot(store: Store) {
  return {
    schedules: (await store.listSchedules({ limit: 1000 })).schedules,
    states: await store.getStates(),
    revision: await store.schedulesRevision(),
  };
}

describe('scheduler.schedules(code)', () => {
  it('upserts, gets, lists and removes runtime schedules of a job defined in code', async () => {
    const { schedules, clock } = setup();
    const created = await schedules.upsert({
      key: 'acme',
      schedule: '*/5 * * * *',
      timezone: 'Europe/Paris',
      payload: { tenant: 'acme' },
      timeout: '30s',
    });
    expect(created).toMatchObject({
      code: 'report',
      key: 'acme',
      schedule: { kind: 'cron', expression: '*/5 * * * *' },
      timezone: 'Europe/Paris',
      payload: { tenant: 'acme' },
      enabled: true,
      options: { timeoutMs: 30_000 },
      createdAt: clock.now(),
    });
    const many = await schedules.upsert([
      { key: 'beta', schedule: every('1h') },
      { key: 'gamma', schedule: dailyAt('06:00', { weekdays: 'weekdays' }), enabled: false },
    ]);
    expect(many.map((s) => s.key)).toEqual(['beta', 'gamma']);
    expect(await schedules.get('beta')).toEqual(many[0]);
    expect(await schedules.get('nope')).toBeNull();
    expect((await schedules.list()).schedules.map((s) => s.key)).toEqual(['acme', 'beta', 'gamma']);
    expect(await schedules.remove('beta')).toBe(true);
    expect(await schedules.remove(['beta', 'gamma'])).toEqual([false, true]);
    expect((await schedules.list()).schedules.map((s) => s.key)).toEqual(['acme']);
  });

  it('pause, resume and trigger name a missing key instead of creating anything', async () => {
    const { schedules, store } = setup();
    await schedules.upsert({ key: 'there', schedule: '* * * * *' });
    const before = await snapshot(store);
    for (const call of [() => schedules.pause('missing'), () => schedules.resume('missing'), () => schedules.trigger('missing')]) {
      await expect(call()).rejects.toThrow(/job "report": \w+: no runtime schedule with key "missing"/);
    }
    expect(await snapshot(store)).toEqual(before);
    expect(await store.pendingRunRequests()).toEqual([]);
    expect((await schedules.pause('there', { note: 'vendor down' })).pausedNote).toBe('vendor down');
    expect((await schedules.resume('there')).paused).toBe(false);
  });

  it('rejects bad input with an error naming the job, key and field, and stores nothing', async () => {
    const { schedules, store, scheduler } = setup();
    await schedules.upsert({ key: 'existing', schedule: '* * * * *' });
    const before = await snapshot(store);
    const cases: Array<[unknown, new (...args: never[]) => Error, RegExp]> = [
      [{ key: 'a', schedule: '61 * * * *' }, InvalidScheduleError, /job "report" schedule "a": schedule/],
      [{ key: 'a', schedule: '* * * * *', timezone: 'Mars/Olympus' }, InvalidScheduleError, /Mars\/Olympus/],
      [
        { key: 'a', schedule: every('5m'), timezone: 'Europe/Paris' },
        InvalidArgumentError,
        /schedule "a": timezone applies to cron and daily schedules only/,
      ],
      [
        { key: 'a', schedule: { kind: 'cron', expression: '* * * * *', timezon: 'Europe/Paris' } },
        InvalidScheduleError,
        /timezon.*did you mean "timezone"/,
      ],
      [{ key: 'a', schedule: once('2026-03-02T11:00:00Z') }, InvalidArgumentError, /once at 2026-03-02T11:00:00.000Z is in the past/],
      [{ key: 'a', schedule: { kind: 'every', everyMs: -5 } }, InvalidScheduleError, /everyMs/],
      [{ key: 'a', schedule: '* * * * *', payload: { when: new Date(0) } }, InvalidArgumentError, /payload\.when is a Date/],
      [{ key: 'a', schedule: '* * * * *', payload: 'x'.repeat(MAX_PAYLOAD_BYTES) }, InvalidArgumentError, /limit is 65536/],
      [{ key: 'has space', schedule: '* * * * *' }, InvalidArgumentError, /key "has space"/],
      [{ key: 'a', schedule: '* * * * *', timeout: '-5m' }, InvalidArgumentError, /schedule "a": timeout/],
      [{ key: 'a', schedule: '* * * * *', retries: 3 }, InvalidArgumentError, /"a": retries is not a known field/],
      [{ key: 'a' }, InvalidArgumentError, /schedule "a": schedule is required/],
      [
        { key: 'a', schedule: '* * * * *', startAt: '2026-01-02', expiresAt: '2026-01-01' },
        InvalidArgumentError,
        /expiresAt .* must be after startAt/,
      ],
      [
        { key: 'a', schedule: '* * * * *', overlapPolicy: 'queue' },
        InvalidArgumentError,
        /job "report" schedule "a": overlapPolicy must be one of skip, bufferOne/,
      ],
      [
        { key: 'a', schedule: '* * * * *', overlapPolicy: 'bufferOne', allowParallelRuns: true },
        InvalidArgumentError,
        /schedule "a": overlapPolicy 'bufferOne' contradicts allowParallelRuns: true/,
      ],
    ];
    for (const [input, ErrorClass, message] of cases) {
      const attempt = schedules.upsert([{ key: 'valid-first', schedule: '* * * * *' }, input as never]);
      await expect(attempt).rejects.toBeInstanceOf(ErrorClass);
      await expect(schedules.upsert(input as never)).rejects.toThrow(message);
    }
    await expect(
      schedules.upsert([
        { key: 'dup', schedule: '* * * * *' },
        { key: 'dup', schedule: '0 * * * *' },
      ]),
    ).rejects.toThrow(/key "dup" appears twice in one call/);
    expect(() => scheduler.schedules('nope')).toThrow(UnknownJobError);
    expect(await snapshot(store)).toEqual(before);
  });
});

describe('runtime schedules: overlap policy', () => {
  it("a schedule's own overlapPolicy wins over its job's; allowParallelRuns alone maps to allowAll or back to the job's", async () => {
    const job = defineJob({ code: 'report', schedule: null, overlapPolicy: 'bufferOne', run: () => undefined });
    const store = createMemoryStore();
    const schedules = createScheduler({ jobs: [job], store, clock: createFakeClock(T0) }).schedules('report');
    const [own, parallel, plain] = await schedules.upsert([
      { key: 'own', schedule: '* * * * *', overlapPolicy: 'bufferAll' },
      { key: 'parallel', schedule: '* * * * *', allowParallelRuns: true },
      { key: 'plain', schedule: '* * * * *' },
    ]);
    expect(own?.options).toEqual({ overlapPolicy: 'bufferAll' });
    expect(runtimeJob(job, own as RuntimeSchedule).overlapPolicy).toBe('bufferAll');
    expect(runtimeJob(job, parallel as RuntimeSchedule)).toMatchObject({ overlapPolicy: 'allowAll', allowParallelRuns: true });
    expect(runtimeJob(job, plain as RuntimeSchedule).overlapPolicy).toBe('bufferOne');
    const parallelJob = defineJob({ code: 'p', schedule: null, allowParallelRuns: true, run: () => undefined });
    expect(runtimeJob(parallelJob, { ...(plain as RuntimeSchedule), options: { allowParallelRuns: false } }).overlapPolicy).toBe('skip');
  });
});

describe('checkPayload', () => {
  it('accepts plain JSON and sorts object keys; refuses what JSON cannot hold, naming the path', () => {
    expect(checkPayload({ b: [1, { d: null, c: 'x' }], a: true }, 'p')).toEqual({ a: true, b: [1, { c: 'x', d: null }] });
    expect(JSON.stringify(checkPayload({ b: 1, a: 2 }, 'p'))).toBe('{"a":2,"b":1}');
    // A payload's own "__proto__" key (as JSON.parse makes it) stays data, not a prototype.
    const parsed = checkPayload(JSON.parse('{"tenant":"acme","__proto__":{"isAdmin":true}}'), 'p');
    expect(JSON.stringify(parsed)).toBe('{"__proto__":{"isAdmin":true},"tenant":"acme"}');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const refused: Array<[unknown, RegExp]> = [
      [{ n: Number.NaN }, /payload\.n is NaN/],
      [{ list: [1, Infinity] }, /payload\.list\[1\] is Infinity/],
      [{ big: 10n }, /payload\.big is a bigint/],
      [{ f: () => 1 }, /payload\.f is a function/],
      [cyclic, /payload\.self refers back to itself/],
      [new Map(), /payload is a Map/],
      ['\uD800', /lone surrogate/],
    ];
    for (const [value, message] of refused) expect(() => checkPayload(value, 'p')).toThrow(message);
  });
});

describe('runDue over runtime schedules', () => {
  it('runs each due runtime schedule with its payload and its own state, beside the job schedule', async () => {
    const { schedules, clock, seen, tick, store } = setup();
    await schedules.upsert([
      { key: 'acme', schedule: '* * * * *', payload: { tenant: 'acme' } },
      { key: 'beta', schedule: '*/2 * * * *', payload: { tenant: 'beta' } },
    ]);
    clock.set('2026-03-02T12:02:00.000Z');
    const report = await tick();
    expect(seen.map((s) => [s.key, s.payload, s.slot]).sort()).toEqual([
      ['acme', { tenant: 'acme' }, '2026-03-02T12:02:00.000Z'],
      ['beta', { tenant: 'beta' }, '2026-03-02T12:02:00.000Z'],
    ]);
    expect(report.results.map((r) => [r.key, r.outcome])).toEqual([
      ['', 'not-due'],
      ['acme', 'succeeded'],
      ['beta', 'succeeded'],
    ]);
    clock.set('2026-03-02T12:03:00.000Z');
    await tick();
    expect(seen.filter((s) => s.slot === '2026-03-02T12:03:00.000Z').map((s) => s.key)).toEqual(['acme']);
    const [acme] = await store.getStates([{ code: 'report', key: 'acme' }]);
    expect(acme).toMatchObject({ lastSlotAt: new Date('2026-03-02T12:03:00.000Z'), totalRuns: 2 });
  });

  it('honours a schedule’s own enabled flag, start, pause and removal', async () => {
    const { schedules, clock, seen, tick } = setup();
    await schedules.upsert([
      { key: 'off', schedule: '* * * * *', enabled: false },
      { key: 'later', schedule: '* * * * *', startAt: '2026-03-02T13:00:00Z' },
      { key: 'held', schedule: '* * * * *' },
      { key: 'gone', schedule: '* * * * *' },
    ]);
    await schedules.pause('held', { note: 'audit' });
    await schedules.remove('gone');
    clock.set('2026-03-02T12:05:00.000Z');
    const report = await tick();
    expect(seen).toEqual([]);
    expect(report.results.map((r) => [r.key, r.outcome, r.reason])).toEqual([
      ['', 'not-due', null],
      ['held', 'paused', 'audit'],
      ['later', 'not-due', null],
      ['off', 'disabled', 'schedule disabled (enabled: false)'],
    ]);
  });

  it('a job with schedule: null runs only its runtime schedules and run-now requests', async () => {
    const { schedules, clock, seen, tick, store } = setup(null);
    await schedules.upsert({ key: 'only', schedule: every('1m') });
    clock.set('2026-03-02T12:01:00.000Z');
    await tick();
    expect(seen.map((s) => s.key)).toEqual(['only']);
    clock.advance(1_500);
    await store.requestRun({ code: 'report', key: '' }, { now: clock.now() });
    await schedules.trigger('only');
    const report = await tick();
    expect(report.results.filter((r) => r.outcome === 'succeeded').map((r) => [r.key, r.run?.trigger])).toEqual([
      ['', 'manual'],
      ['only', 'manual'],
    ]);
    expect(await store.pendingRunRequests()).toEqual([]);
  });

  it('a schedule changed between the read and the claim is not run on its old definition', async () => {
    const { schedules, clock, seen, store } = setup();
    await schedules.upsert({ key: 'v', schedule: '* * * * *' });
    clock.set('2026-03-02T12:01:00.000Z');
    // A store that changes the schedule right after the runner read it (another admin's edit).
    let edited = false;
    const racing = new Proxy(store, {
      get(target, property) {
        if (property === 'claimSlots') {
          return async (...args: Parameters<Store['claimSlots']>) => {
            if (!edited) {
              edited = true;
              await createScheduler({ jobs: [defineJob({ code: 'report', schedule: null, run: () => undefined })], store: target, clock })
                .schedules('report')
                .upsert({ key: 'v', schedule: '0 * * * *' });
            }
            return target.claimSlots(...args);
          };
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const report = await runDue({
      jobs: [defineJob({ code: 'report', schedule: null, run: () => void seen.push({ key: 'v', payload: null, slot: '', trigger: '' }) })],
      store: racing,
      clock,
    });
    expect(report.results.find((r) => r.key === 'v')?.outcome).toBe('unscheduled');
    expect(seen).toEqual([]);
    expect((await store.queryRuns()).runs).toEqual([]);
  });

  it('leaves schedules of codes this deployment does not register alone', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const other = createScheduler({ jobs: [defineJob({ code: 'elsewhere', schedule: null, run: () => undefined })], store, clock });
    await other.schedules('elsewhere').upsert({ key: 'x', schedule: '* * * * *' });
    clock.set('2026-03-02T12:05:00.000Z');
    const report = await runDue({ jobs: [defineJob({ code: 'mine', schedule: '0 3 * * *', run: () => undefined })], store, clock });
    expect(report.results.map((r) => r.code)).toEqual(['mine']);
    expect((await store.queryRuns()).runs).toEqual([]);
  });

  it('defineJob still requires a schedule, pointing at null for runtime-only jobs', () => {
    expect(() => defineJob({ code: 'x', run: () => undefined } as never)).toThrow(InvalidJobError);
    expect(() => defineJob({ code: 'x', run: () => undefined } as never)).toThrow(/null for a job that runs only on runtime schedules/);
  });
});

describe('runtime schedules: review regressions', () => {
  it('a changed definition starts afresh: no backfill of slots from before the change, no retry of an old slot', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    const slots: string[] = [];
    let fail = true;
    const job = defineJob({
      code: 'daily',
      schedule: null,
      retryAfterFailure: '1m',
      missedRunPolicy: { all: { within: '1d' } },
      run: (ctx: RunContext) => {
        slots.push(ctx.slot.toISOString());
        if (fail) throw new Error('down');
      },
    });
    const schedules = createScheduler({ jobs: [job], store, clock }).schedules('daily');
    await schedules.upsert({ key: 'k', schedule: dailyAt('09:00') });
    await runDue({ jobs: [job], store, clock });
    expect(slots).toEqual(['2026-03-02T09:00:00.000Z']);
    fail = false;
    clock.set('2026-03-02T12:00:00.000Z');
    await schedules.upsert({ key: 'k', schedule: '* * * * *' });
    clock.set('2026-03-02T12:00:30.000Z');
    await runDue({ jobs: [job], store, clock });
    // Neither the 180 minutes 09:01 … 12:00 under the new definition (only the grace minute) nor a retry of 09:00.
    expect(slots).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-02T12:00:00.000Z']);
  });

  it("a schedule's window is the intersection of the job's and its own, and an empty one is refused", async () => {
    const store = createMemoryStore();
    const clock = createFakeClock('2026-02-27T00:00:00.000Z');
    const ran: string[] = [];
    const job = defineJob({
      code: 'w',
      schedule: null,
      expiresAt: '2026-03-01T00:00:00Z',
      run: (ctx: RunContext) => void ran.push(ctx.slot.toISOString()),
    });
    const schedules = createScheduler({ jobs: [job], store, clock }).schedules('w');
    await schedules.upsert({ key: 'longer', schedule: every('1h'), expiresAt: '2026-12-31T00:00:00Z' });
    await expect(schedules.upsert({ key: 'never', schedule: every('1h'), startAt: '2026-03-02T00:00:00Z' })).rejects.toThrow(
      /window .* is empty/,
    );
    clock.set('2026-03-03T00:00:00.000Z');
    await runDue({ jobs: [job], store, clock });
    // The latest slot within the job's expiry is caught up once, not the 03-03 one the schedule's own expiry would allow.
    expect(ran).toEqual(['2026-03-01T00:00:00.000Z']);
    clock.set('2026-03-03T01:00:00.000Z');
    const report = await runDue({ jobs: [job], store, clock });
    expect(ran).toHaveLength(1);
    expect(report.results.find((r) => r.key === 'longer')).toMatchObject({ outcome: 'not-due', nextSlotAt: null });
  });

  it('a run-now request whose claim met a pause or a changed schedule stays pending instead of being lost', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    const ran: string[] = [];
    const job = defineJob({ code: 'r', schedule: null, run: (ctx: RunContext) => void ran.push(ctx.key) });
    const schedules = createScheduler({ jobs: [job], store, clock }).schedules('r');
    await schedules.upsert([
      { key: 'paused-meanwhile', schedule: '0 3 * * *' },
      { key: 'changed-meanwhile', schedule: '0 3 * * *' },
    ]);
    await schedules.trigger('paused-meanwhile');
    await schedules.trigger('changed-meanwhile');
    let raced = false;
    const racing = new Proxy(store, {
      get(target, property) {
        if (property === 'claimSlots' && !raced) {
          return async (...args: Parameters<Store['claimSlots']>) => {
            raced = true;
            await target.setPaused({ code: 'r', key: 'paused-meanwhile' }, true, { now: clock.now() });
            await schedules.upsert({ key: 'changed-meanwhile', schedule: '0 4 * * *' });
            return target.claimSlots(...args);
          };
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const report = await runDue({ jobs: [job], store: racing, clock });
    expect(
      report.results
        .filter((r) => r.key !== '')
        .map((r) => [r.key, r.outcome])
        .sort(),
    ).toEqual([
      ['changed-meanwhile', 'unscheduled'],
      ['paused-meanwhile', 'paused'],
    ]);
    expect((await store.pendingRunRequests()).map((r) => r.key).sort()).toEqual(['changed-meanwhile', 'paused-meanwhile']);
    clock.advance(2_000);
    await runDue({ jobs: [job], store, clock });
    expect(ran).toEqual(['changed-meanwhile']);
    await schedules.resume('paused-meanwhile');
    clock.advance(2_000);
    await runDue({ jobs: [job], store, clock });
    expect(ran.sort()).toEqual(['changed-meanwhile', 'paused-meanwhile']);
  });

  it('requests of paused schedules filling the look-ahead window do not starve an active schedule’s request', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    const ran: string[] = [];
    const job = defineJob({ code: 's', schedule: null, run: (ctx: RunContext) => void ran.push(ctx.key) });
    const schedules = createScheduler({ jobs: [job], store, clock }).schedules('s');
    const held = Array.from({ length: 1_000 }, (_, i) => ({ key: `held-${i}`, schedule: '0 3 * * *' }));
    await schedules.upsert(held);
    await schedules.upsert({ key: 'active', schedule: '0 3 * * *' });
    for (const { key } of held) {
      await schedules.trigger(key);
      await schedules.pause(key);
    }
    await schedules.trigger('active');
    await runDue({ jobs: [job], store, clock });
    expect(ran).toEqual(['active']);
    expect(await store.pendingRunRequests()).toHaveLength(1_000);
  });

  it('a dry run shows pending run-now requests as manual would-runs and takes none', async () => {
    const { schedules, store, clock } = setup();
    await schedules.upsert({ key: 'acme', schedule: '0 3 * * *' });
    await schedules.trigger('acme');
    const report = await runDue({
      jobs: [defineJob({ code: 'report', schedule: null, run: () => undefined })],
      store,
      clock,
      dryRun: true,
    });
    expect(report.results.find((r) => r.key === 'acme')).toMatchObject({ outcome: 'would-run', reason: 'manual' });
    expect(await store.pendingRunRequests()).toHaveLength(1);
  });

  it('runs at most maxConcurrentRuns handlers at once, claiming the rest in later waves', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock('2026-03-02T12:00:00.000Z');
    let running = 0;
    let most = 0;
    const job = defineJob({
      code: 'wave',
      schedule: null,
      run: async () => {
        running += 1;
        most = Math.max(most, running);
        // Yield a few times so handlers of one wave overlap each other.
        for (let i = 0; i < 5; i++) await Promise.resolve();
        running -= 1;
      },
    });
    await createScheduler({ jobs: [job], store, clock })
      .schedules('wave')
      .upsert(Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, schedule: '* * * * *' })));
    clock.set('2026-03-02T12:01:00.000Z');
    const report = await runDue({ jobs: [job], store, clock, maxConcurrentRuns: 3 });
    expect(report.results.filter((r) => r.outcome === 'succeeded')).toHaveLength(7);
    expect(most).toBe(3);
    await expect(runDue({ jobs: [job], store, clock, maxConcurrentRuns: 0 })).rejects.toThrow(/maxConcurrentRuns must be an integer ≥ 1/);
  });

  it('trigger refuses a disabled schedule (its request would never run)', async () => {
    const { schedules, store } = setup();
    await schedules.upsert({ key: 'off', schedule: '* * * * *', enabled: false });
    await expect(schedules.trigger('off')).rejects.toThrow(/schedule "off" is disabled/);
    expect(await store.pendingRunRequests()).toEqual([]);
  });
});
