import { createMemoryStore, createScheduler, defineJob, every, silentLogger, type Job, type RunContext, type Store } from '@tickwork/core';
import type { SlotClaim } from '@tickwork/core/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon, type DaemonHandle, type LoadedSchedule } from '../src/index.js';
import { advance, fakeTime, START, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Seen {
  key: string;
  slot: number;
  at: number;
  payload: unknown;
  trigger: string;
  runner: string;
}

/** A job that runs only on its runtime schedules, recording every start. */
/** A store whose claims block the process for `ms` of real time (fake time stands still), like a busy machine's. */
function slowClaims(store: Store, ms: number): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'claimSlots' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const until = performance.now() + ms;
        while (performance.now() < until);
        return value.apply(target, args);
      };
    },
  });
}

function tenantJob(seen: Seen[], options: { handlerMs?: number } = {}): Job {
  return defineJob({
    code: 'report',
    schedule: null,
    run: async (ctx: RunContext) => {
      seen.push({
        key: ctx.key,
        slot: ctx.slot.getTime(),
        at: Date.now(),
        payload: ctx.payload,
        trigger: ctx.trigger,
        runner: ctx.runnerId,
      });
      if (options.handlerMs) await new Promise((resolve) => setTimeout(resolve, options.handlerMs));
    },
  });
}

/** Fake milliseconds from now until every daemon's view of `ref` passes `check`. */
async function untilHonoured(
  daemons: DaemonHandle[],
  ref: { code: string; key: string },
  check: (held: LoadedSchedule | null) => boolean,
): Promise<number> {
  const from = Date.now();
  while (!daemons.every((d) => check(d.loadedSchedule(ref)))) {
    if (Date.now() - from > 10_000)
      throw new Error(`not honoured within 10 s: ${JSON.stringify(daemons.map((d) => d.loadedSchedule(ref)))}`);
    await advance(5);
  }
  return Date.now() - from;
}

describe.each([
  { name: 'with change subscription', changeSubscription: true, boundMs: 1_000 },
  // The poll interval, plus the re-read's turn of the event loop (one 5 ms step of fake time).
  { name: 'by polling', changeSubscription: false, boundMs: 505 },
])('runtime schedules $name', ({ changeSubscription, boundMs }) => {
  const pollIntervalMs = 500;

  /** Two daemons on one memory backend running `tenantJob`, and the management API of its schedules. */
  async function twoDaemons(options: { handlerMs?: number } = {}) {
    fakeTime();
    const seen: Seen[] = [];
    const job = tenantJob(seen, options);
    const { daemons, store } = await startDaemons(2, [job], { changeSubscription, pollIntervalMs });
    return { seen, daemons, store, schedules: createScheduler({ jobs: [job], store }).schedules('report') };
  }

  it('a schedule upserted while the daemons run is picked up and run once per slot with its payload', async () => {
    const { seen, daemons, schedules } = await twoDaemons();
    await advance(1_500);
    const stored = await schedules.upsert({ key: 'tenant-1', schedule: '* * * * * *', payload: { tenant: 1, to: ['a@example.com'] } });
    const upsertedAt = Date.now();
    expect(
      await untilHonoured(daemons, { code: 'report', key: 'tenant-1' }, (held) => held?.version === stored.version),
    ).toBeLessThanOrEqual(boundMs);
    await advance(5_000);
    await stopAll(daemons);
    const slots = seen.map((s) => s.slot);
    expect(new Set(slots).size).toBe(slots.length);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    for (const s of seen) {
      expect(s).toMatchObject({ key: 'tenant-1', payload: { tenant: 1, to: ['a@example.com'] }, trigger: 'schedule' });
      expect(s.slot).toBeGreaterThanOrEqual(upsertedAt - 1_000);
    }
    // On time once loaded: every second from the first full one after the daemons saw it.
    const onTime = seen.filter((s) => s.slot > upsertedAt + boundMs);
    for (const s of onTime) expect(s.at).toBe(s.slot);
  });

  it('a changed cron and a disable are honoured within the bound, and runs follow the new definition', async () => {
    const { seen, daemons, schedules } = await twoDaemons();
    await schedules.upsert([
      { key: 'a', schedule: '* * * * * *', payload: 'v1' },
      { key: 'b', schedule: '* * * * * *' },
    ]);
    await advance(3_000);
    const changed = await schedules.upsert({ key: 'a', schedule: '*/10 * * * * *', payload: 'v2' });
    const changedAt = Date.now();
    expect(await untilHonoured(daemons, { code: 'report', key: 'a' }, (held) => held?.version === changed.version)).toBeLessThanOrEqual(
      boundMs,
    );
    await schedules.upsert({ key: 'b', schedule: '* * * * * *', enabled: false });
    const disabledAt = Date.now();
    expect(
      await untilHonoured(daemons, { code: 'report', key: 'b' }, (held) => held?.enabled === false && held.nextDueAt === null),
    ).toBeLessThanOrEqual(boundMs);
    await advance(25_000);
    await stopAll(daemons);
    const laterA = seen.filter((s) => s.key === 'a' && s.at > changedAt + boundMs);
    expect(laterA.length).toBeGreaterThanOrEqual(2);
    for (const s of laterA) {
      expect(s.slot % 10_000).toBe(0);
      expect(s.payload).toBe('v2');
    }
    expect(seen.filter((s) => s.key === 'b' && s.at > disabledAt + boundMs)).toEqual([]);
    expect(seen.filter((s) => s.key === 'b').length).toBeGreaterThanOrEqual(3);
  });

  it('a removed schedule stops within the bound, and its run in flight finishes and is logged', async () => {
    const { seen, daemons, store, schedules } = await twoDaemons({ handlerMs: 3_000 });
    await schedules.upsert({ key: 'gone', schedule: '*/5 * * * * *', allowParallelRuns: true });
    await advance(6_000); // START+5 s has started; its handler runs until START+8 s
    const inFlight = seen.filter((s) => s.slot === START.getTime() + 5_000);
    expect(inFlight).toHaveLength(1);
    expect(await schedules.remove('gone')).toBe(true);
    const removedAt = Date.now();
    expect(await untilHonoured(daemons, { code: 'report', key: 'gone' }, (held) => held === null)).toBeLessThanOrEqual(boundMs);
    await advance(20_000);
    const health = await (daemons[0] as DaemonHandle).health();
    await stopAll(daemons);
    expect(seen.filter((s) => s.at > removedAt)).toEqual([]);
    const { runs } = await store.queryRuns({ code: 'report', key: 'gone' });
    const finished = runs.find((r) => r.slotAt.getTime() === START.getTime() + 5_000);
    expect(finished).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(finished?.finishedAt?.getTime()).toBe(START.getTime() + 8_000);
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    expect(health).toMatchObject({ ok: true, schedules: { code: 1, runtime: 0 } });
  });

  it('a run-now request runs a runtime schedule once with its payload; a paused one waits for its resume, a disabled one stays pending', async () => {
    const { seen, daemons, store, schedules } = await twoDaemons();
    await schedules.upsert([
      { key: 'now', schedule: '0 3 * * *', payload: { n: 1 } },
      { key: 'paused', schedule: '0 3 * * *', payload: { n: 2 } },
      { key: 'off', schedule: '0 3 * * *', enabled: false },
    ]);
    await schedules.pause('paused');
    await advance(1_000);
    await schedules.trigger('now');
    await schedules.trigger('paused');
    // The API refuses to trigger a disabled schedule; the store takes it (as from a request filed before the disable).
    await store.requestRun({ code: 'report', key: 'off' }, { now: new Date() });
    await advance(2_000);
    expect(seen.map((s) => [s.key, s.trigger, s.payload])).toEqual([['now', 'manual', { n: 1 }]]);
    expect((await store.pendingRunRequests()).map((r) => r.key).sort()).toEqual(['off', 'paused']);
    await schedules.resume('paused');
    await advance(2_000);
    await stopAll(daemons);
    expect(seen.map((s) => [s.key, s.trigger, s.payload])).toEqual([
      ['now', 'manual', { n: 1 }],
      ['paused', 'manual', { n: 2 }],
    ]);
    expect((await store.pendingRunRequests()).map((r) => r.key)).toEqual(['off']);
  });
});

describe('runtime schedules', () => {
  it('three daemons run each slot of twenty runtime schedules exactly once, on its instant, sharing them', async () => {
    fakeTime();
    const seen: Seen[] = [];
    const job = tenantJob(seen);
    // Capacity for half of an instant each: one wave per wake, so no daemon claims a whole instant at once.
    // d1's claims take 300 ms of real time, as on a busy machine: the sharing must not depend on it.
    const { daemons, store } = await startDaemons(3, [job], {
      maxConcurrentRuns: 10,
      wrapStore: (store, i) => (i === 0 ? slowClaims(store, 300) : store),
    });
    await createScheduler({ jobs: [job], store })
      .schedules('report')
      .upsert(Array.from({ length: 20 }, (_, i) => ({ key: `t-${i}`, schedule: every('1s'), payload: i })));
    await advance(500);
    const from = Date.now();
    await advance(10_000);
    await stopAll(daemons);
    const ids = seen.map((s) => `${s.key}@${s.slot}`);
    expect(ids.length - new Set(ids).size).toBe(0);
    // The judged window is (from, from + 10 s]: a slot claimed ahead of it may start while the
    // daemons drain in stopAll (fake time moves on), once like every other (the ids check above).
    for (let i = 0; i < 20; i++) {
      const slots = seen.filter((s) => s.key === `t-${i}` && s.slot > from && s.slot <= from + 10_000).map((s) => s.slot);
      expect(slots.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, k) => Math.ceil(from / 1000) * 1000 + k * 1000));
    }
    for (const s of seen) expect(s.payload).toBe(Number(s.key.slice(2)));
    for (const s of seen.filter((s) => s.slot > from)) expect(s.at).toBe(s.slot);
    // Every instant shared: each daemon's waves start from its own point, and interleave with the others'.
    for (let k = 0; k < 10; k++) {
      const slot = Math.ceil(from / 1000) * 1000 + k * 1000;
      expect(new Set(seen.filter((s) => s.slot === slot).map((s) => s.runner)).size).toBeGreaterThan(1);
    }
    expect(new Set(seen.map((s) => s.runner)).size).toBeGreaterThan(1);
  });

  it("loads at start-up the runtime schedules of the jobs it runs, ignoring other jobs' and those of disabled jobs", async () => {
    fakeTime();
    const seen: Seen[] = [];
    const job = tenantJob(seen);
    const other = defineJob({ code: 'other', schedule: null, run: () => undefined });
    const off = defineJob({ code: 'off', schedule: null, enabled: false, run: () => undefined });
    const store = createMemoryStore();
    const scheduler = createScheduler({ jobs: [job, other, off], store });
    await scheduler.schedules('report').upsert([
      { key: 'x', schedule: '* * * * * *', payload: 'x' },
      { key: 'y', schedule: every('2s'), payload: 'y' },
    ]);
    await scheduler.schedules('other').upsert({ key: 'z', schedule: '* * * * * *' });
    await scheduler.schedules('off').upsert({ key: 'w', schedule: '* * * * * *' });
    const daemon = createDaemon({ jobs: [job, off], store }, { logger: silentLogger, runnerId: 'd1', http: null });
    await advance(0);
    await daemon.ready;
    expect(await daemon.health()).toMatchObject({ ok: true, schedules: { code: 1, runtime: 2 } });
    expect(daemon.loadedSchedule({ code: 'other', key: 'z' })).toBeNull();
    expect(daemon.loadedSchedule({ code: 'off', key: 'w' })).toBeNull();
    // A job without a schedule of its own: its key-'' entry is held but never due.
    expect(daemon.loadedSchedule({ code: 'report', key: '' })).toMatchObject({ version: null, nextDueAt: null });
    const metrics = await daemon.metrics.metrics();
    expect(metrics).toMatch(/tickwork_loaded_schedules\{source="runtime",runner="d1"\} 2/);
    expect(metrics).toMatch(/tickwork_loaded_schedules\{source="code",runner="d1"\} 1/);
    await advance(4_000);
    await stopAll([daemon]);
    expect(seen.filter((s) => s.key === 'x').length).toBeGreaterThanOrEqual(4);
    expect(seen.filter((s) => s.key === 'y').length).toBeGreaterThanOrEqual(2);
    expect(seen.every((s) => s.payload === s.key)).toBe(true);
  });

  it('a job with schedule: null runs only on its runtime schedules, run-now requests and retries', async () => {
    fakeTime();
    const seen: Seen[] = [];
    let failOnce = true;
    const job = defineJob({
      code: 'report',
      schedule: null,
      retryAfterFailure: '2s',
      run: (ctx: RunContext) => {
        seen.push({
          key: ctx.key,
          slot: ctx.slot.getTime(),
          at: Date.now(),
          payload: ctx.payload,
          trigger: ctx.trigger,
          runner: ctx.runnerId,
        });
        if (ctx.key === '' && failOnce) {
          failOnce = false;
          throw new Error('first run-now fails');
        }
      },
    });
    const { daemons, store } = await startDaemons(1, [job]);
    await createScheduler({ jobs: [job], store })
      .schedules('report')
      .upsert({ key: 'k', schedule: every('5s'), payload: 'k' });
    await advance(500);
    await store.requestRun({ code: 'report', key: '' }, { now: new Date() });
    await advance(12_000);
    await stopAll(daemons);
    const own = seen.filter((s) => s.key === '');
    // The run-now request, then its retry 2 s after the failure; nothing else on key ''.
    expect(own.map((s) => [s.trigger, s.at - (START.getTime() + 500)])).toEqual([
      ['manual', 0],
      ['retry', 2_000],
    ]);
    expect(own.map((s) => s.payload)).toEqual([undefined, undefined]);
    expect(seen.filter((s) => s.key === 'k').map((s) => s.slot)).toEqual([0, 5_000, 10_000].map((ms) => START.getTime() + ms));
  });
});

describe('a claim answered unscheduled', () => {
  /** A memory store that tells nothing (no push) and counts the claims naming `key`, by outcome. */
  function counting(store: Store, key: string): { store: Store; outcomes: string[] } {
    const outcomes: string[] = [];
    const wrapped = new Proxy(store, {
      get(target, property) {
        if (property === 'claimSlots') {
          return async (claims: readonly SlotClaim[], context: Parameters<Store['claimSlots']>[1]) => {
            const answer = await target.claimSlots(claims, context);
            claims.forEach((claim, i) => {
              if (claim.key === key) outcomes.push(answer[i]?.status as string);
            });
            return answer;
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { store: wrapped, outcomes };
  }

  it.each([
    { change: 'removed', expected: ['claimed', 'claimed', 'unscheduled'] },
    { change: 'changed', expected: ['claimed', 'claimed', 'unscheduled', 'claimed', 'claimed'] },
  ])("re-reads the schedule when it was $change behind the daemon's back, and does not loop", async ({ change, expected }) => {
    fakeTime();
    const seen: Seen[] = [];
    const job = tenantJob(seen);
    const { store, outcomes } = counting(createMemoryStore({ changeSubscription: false }), 'k');
    const schedules = createScheduler({ jobs: [job], store }).schedules('report');
    await schedules.upsert({ key: 'k', schedule: '*/2 * * * * *', payload: 'v1' });
    // Polls far apart: the daemon learns of the change only from its claim.
    const daemon = createDaemon({ jobs: [job], store }, { logger: silentLogger, pollIntervalMs: 600_000 });
    await advance(0);
    await daemon.ready;
    await advance(2_500);
    if (change === 'removed') await schedules.remove('k');
    else await schedules.upsert({ key: 'k', schedule: '*/2 * * * * *', payload: 'v2' });
    await advance(4_000);
    await stopAll([daemon]);
    expect(outcomes).toEqual(expected);
    expect(seen.map((s) => s.payload)).toEqual(change === 'removed' ? ['v1', 'v1'] : ['v1', 'v1', 'v2', 'v2']);
    expect(daemon.loadedSchedule({ code: 'report', key: 'k' })?.payload ?? null).toBe(change === 'removed' ? null : 'v2');
  });
});
