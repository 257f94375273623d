import {
  createMemoryBackend,
  createMemoryStore,
  createScheduler,
  defineJob,
  every,
  silentLogger,
  type JobInput,
  type RunContext,
  type Store,
} from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon } from '../src/index.js';
import { advance, fakeTime, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

const ref = { code: 'beat', key: '' };

function beat(log: number[]) {
  return defineJob({ code: 'beat', schedule: every('1s'), run: (ctx: RunContext) => void log.push(ctx.slot.getTime()) });
}

describe.each([
  { name: 'with change subscription', changeSubscription: true },
  { name: 'by polling', changeSubscription: false },
])('runtime changes $name', ({ changeSubscription }) => {
  it('a pause made through the store stops runs within a second, and a resume restarts them', async () => {
    fakeTime();
    const log: number[] = [];
    const { daemons, store } = await startDaemons(2, [beat(log)], { changeSubscription, pollIntervalMs: 500 });
    await advance(3_000);
    expect(log.length).toBe(4);
    await store.setPaused(ref, true, { now: new Date(), note: 'maintenance' });
    await advance(1_000);
    const afterPause = log.length;
    await advance(5_000);
    expect(log.length).toBe(afterPause);
    await store.setPaused(ref, false, { now: new Date() });
    await advance(3_000);
    await stopAll(daemons);
    expect(log.length).toBeGreaterThanOrEqual(afterPause + 2);
    expect(new Set(log).size).toBe(log.length);
  });

  it('a schedule override takes effect without restart', async () => {
    fakeTime();
    const log: number[] = [];
    const { daemons, store } = await startDaemons(2, [beat(log)], { changeSubscription, pollIntervalMs: 500 });
    await advance(2_000);
    await store.setScheduleOverride(ref, { kind: 'every', everyMs: 10_000 }, new Date());
    const from = Date.now();
    await advance(1_000);
    const settled = log.length;
    await advance(20_000);
    await stopAll(daemons);
    const later = log.slice(settled);
    expect(later.length).toBe(2);
    for (const slot of later) expect(slot % 10_000).toBe(0);
    expect(later.every((slot) => slot > from)).toBe(true);
  });

  it('a run-now request runs the job once with trigger manual', async () => {
    fakeTime();
    const triggers: string[] = [];
    const job = defineJob({ code: 'report', schedule: '0 3 * * *', run: (ctx: RunContext) => void triggers.push(ctx.trigger) });
    const { daemons, store } = await startDaemons(2, [job], { changeSubscription, pollIntervalMs: 500 });
    await store.requestRun({ code: 'report', key: '' }, { now: new Date(), requestedBy: 'test' });
    await advance(1_000);
    await stopAll(daemons);
    expect(triggers).toEqual(['manual']);
  });

  it('a run-now request for a paused job waits for the resume; one for a job the daemons do not run stays pending', async () => {
    fakeTime();
    const triggers: string[] = [];
    const job = defineJob({ code: 'report', schedule: '0 3 * * *', run: (ctx: RunContext) => void triggers.push(ctx.trigger) });
    const elsewhere = defineJob({ code: 'elsewhere', schedule: null, run: () => undefined });
    const { daemons, store } = await startDaemons(2, [job], { changeSubscription, pollIntervalMs: 500 });
    await createScheduler({ jobs: [elsewhere], store })
      .schedules('elsewhere')
      .upsert({ key: 'tenant-1', schedule: '0 3 * * *' });
    await store.setPaused({ code: 'report', key: '' }, true, { now: new Date() });
    await advance(1_000);
    await store.requestRun({ code: 'report', key: '' }, { now: new Date() });
    await store.requestRun({ code: 'elsewhere', key: 'tenant-1' }, { now: new Date() });
    await store.requestRun({ code: 'elsewhere', key: '' }, { now: new Date() });
    await advance(2_000);
    expect(triggers).toEqual([]);
    expect((await store.pendingRunRequests()).map((r) => `${r.code}/${r.key}`).sort()).toEqual([
      'elsewhere/',
      'elsewhere/tenant-1',
      'report/',
    ]);
    await store.setPaused({ code: 'report', key: '' }, false, { now: new Date() });
    await advance(2_000);
    await stopAll(daemons);
    expect(triggers).toEqual(['manual']);
    expect((await store.pendingRunRequests()).map((r) => `${r.code}/${r.key}`).sort()).toEqual(['elsewhere/', 'elsewhere/tenant-1']);
  });
});

describe('the run-request poll', () => {
  /** Two daemons on one memory backend, polling only, each store recording the options of every pendingRunRequests call. */
  async function polling(jobs: readonly JobInput[]) {
    const backend = createMemoryBackend();
    const peeks: Array<Parameters<Store['pendingRunRequests']>[0]> = [];
    const daemons = Array.from({ length: 2 }, (_, i) => {
      const store = createMemoryStore({ backend, changeSubscription: false });
      const recorded: Store = {
        ...store,
        pendingRunRequests: (options) => {
          peeks.push(options);
          return store.pendingRunRequests(options);
        },
      };
      return createDaemon({ jobs, store: recorded }, { logger: silentLogger, runnerId: `d${i + 1}`, pollIntervalMs: 500 });
    });
    await advance(0);
    await Promise.all(daemons.map((d) => d.ready));
    return { daemons, peeks, store: createMemoryStore({ backend, changeSubscription: false }) };
  }

  const quiet = (count: number) =>
    Array.from({ length: count }, (_, i) => defineJob({ code: `quiet-${i}`, schedule: '0 3 * * *', run: () => undefined }));

  it('names no job while nothing is pending: its cost does not grow with the number of jobs', async () => {
    fakeTime();
    const { daemons, peeks } = await polling(quiet(200));
    peeks.length = 0;
    await advance(5_000);
    await stopAll(daemons);
    expect(peeks.length).toBeGreaterThanOrEqual(2 * 9);
    expect(peeks.filter((options) => options?.codes !== undefined || options?.refs !== undefined)).toEqual([]);
  });

  it('still finds a request of its jobs behind a thousand older ones of a job no daemon runs, which stay pending', async () => {
    fakeTime();
    const triggers: string[] = [];
    const report = defineJob({ code: 'report', schedule: '0 3 * * *', run: (ctx: RunContext) => void triggers.push(ctx.trigger) });
    const { daemons, store } = await polling([report, ...quiet(10)]);
    for (let i = 0; i < 1_000; i++) await store.requestRun({ code: 'elsewhere', key: '' }, { now: new Date() });
    await advance(1);
    await store.requestRun({ code: 'report', key: '' }, { now: new Date() });
    await advance(2_000);
    await stopAll(daemons);
    expect(triggers).toEqual(['manual']);
    const left = await store.pendingRunRequests();
    expect(left).toHaveLength(1_000);
    expect(left.every((request) => request.code === 'elsewhere')).toBe(true);
  });
});
