import { describe, expect, it } from 'vitest';
import {
  checkPayload,
  createFakeClock,
  createMemoryStore,
  createScheduler,
  dailyAt,
  defineJob,
  every,
  InvalidArgumentError,
  InvalidJobError,
  InvalidScheduleError,
  MAX_PAYLOAD_BYTES,
  runDue,
  UnknownJobError,
  type RunContext,
  type Store,
} from '../src/index.js';

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
    const created = await schedules.upsert({ key: 'acme', schedule: '*/5 * * * *', timezone: 'Europe/Paris', payload: { tenant: 'acme' }, timeout: '30s' });
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
      [{ key: 'a', schedule: every('5m'), timezone: 'Mars/Olympus' }, InvalidScheduleError, /schedule "a": timezone.*Mars\/Olympus/],
      [{ key: 'a', schedule: { kind: 'every', everyMs: -5 } }, InvalidScheduleError, /everyMs/],
      [{ key: 'a', schedule: '* * * * *', payload: { when: new Date(0) } }, InvalidArgumentError, /payload\.when is a Date/],
      [{ key: 'a', schedule: '* * * * *', payload: 'x'.repeat(MAX_PAYLOAD_BYTES) }, InvalidArgumentError, /limit is 65536/],
      [{ key: 'has space', schedule: '* * * * *' }, InvalidArgumentError, /key "has space"/],
      [{ key: 'a', schedule: '* * * * *', timeout: '-5m' }, InvalidArgumentError, /schedule "a": timeout/],
      [{ key: 'a', schedule: '* * * * *', retries: 3 }, InvalidArgumentError, /"a": retries is not a known field/],
      [{ key: 'a' }, InvalidArgumentError, /schedule "a": schedule is required/],
      [{ key: 'a', schedule: '* * * * *', startAt: '2026-01-02', expiresAt: '2026-01-01' }, InvalidArgumentError, /expiresAt .* must be after startAt/],
    ];
    for (const [input, ErrorClass, message] of cases) {
      const attempt = schedules.upsert([{ key: 'valid-first', schedule: '* * * * *' }, input as never]);
      await expect(attempt).rejects.toBeInstanceOf(ErrorClass);
      await expect(schedules.upsert(input as never)).rejects.toThrow(message);
    }
    await expect(schedules.upsert([{ key: 'dup', schedule: '* * * * *' }, { key: 'dup', schedule: '0 * * * *' }])).rejects.toThrow(
      /key "dup" appears twice in one call/,
    );
    expect(() => scheduler.schedules('nope')).toThrow(UnknownJobError);
    expect(await snapshot(store)).toEqual(before);
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
              await createScheduler({ jobs: [defineJob({ code: 'report', schedule: null, run: () => undefined })], store: target, clock }).schedules('report').upsert({ key: 'v', schedule: '0 * * * *' });
            }
            return target.claimSlots(...args);
          };
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const report = await runDue({ jobs: [defineJob({ code: 'report', schedule: null, run: () => void seen.push({ key: 'v', payload: null, slot: '', trigger: '' }) })], store: racing, clock });
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
