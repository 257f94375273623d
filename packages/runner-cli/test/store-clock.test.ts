import { createMemoryStore, defineConfig, every, once, type Store } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { expectListJson, expectRunReportJson, expectSchedulesJson } from './fixtures/json-shapes.js';
import { runCli } from '../src/index.js';
import { captureIo } from './fixtures/capture.js';

/** A memory store whose clock reads `skewMs` off this machine's (as a PostgreSQL or Redis server's may), counting pings. */
function skewedStore(skewMs: number) {
  const memory = createMemoryStore();
  const counter = { pings: 0 };
  const store: Store = {
    ...memory,
    ping: async () => {
      counter.pings += 1;
      return { latencyMs: 0, serverTime: new Date(Date.now() + skewMs) };
    },
  };
  return { memory, store, counter };
}

async function cli(store: Store, argv: string[], env: Record<string, string> = {}) {
  const config = defineConfig({
    jobs: [
      { code: 'hourly', schedule: every('1h'), run: () => undefined },
      { code: 'reports', schedule: null, run: () => undefined },
    ],
    store,
  });
  const io = captureIo(env);
  const code = await runCli(argv, { io, config });
  return { code, out: io.out(), err: io.errText() };
}

const HOUR = 3_600_000;
/** Margin for a slow machine between two readings of the clock in one test. */
const SLACK = 60_000;

describe('every command that touches the store runs on the store clock', () => {
  it('pause, resume and trigger write the store time, not this machine’s', async () => {
    const { memory, store } = skewedStore(HOUR);
    expect((await cli(store, ['pause', 'hourly'])).code).toBe(0);
    expect((await cli(store, ['resume', 'hourly'])).code).toBe(0);
    const [state] = await memory.getStates([{ code: 'hourly', key: '' }]);
    expect(Math.abs((state?.resumedAt?.getTime() ?? 0) - (Date.now() + HOUR))).toBeLessThan(SLACK);
    expect((await cli(store, ['trigger', 'hourly'])).code).toBe(0);
    const [request] = await memory.pendingRunRequests();
    expect(Math.abs((request?.requestedAt.getTime() ?? 0) - (Date.now() + HOUR))).toBeLessThan(SLACK);
  });

  it('list, schedules and schedule set show times relative to the store clock', async () => {
    const { store } = skewedStore(HOUR);
    const list = expectListJson(JSON.parse((await cli(store, ['list', '--json'])).out));
    expect(Math.abs(Date.parse(list.now) - (Date.now() + HOUR))).toBeLessThan(SLACK);
    // A one-off 30 minutes after the store's now (1 h 30 min after this machine's, which runs an hour behind).
    const at = new Date(Math.floor((Date.now() + HOUR + 30 * 60_000) / 60_000) * 60_000).toISOString();
    const set = await cli(store, ['schedule', 'set', 'reports', 'acme', '--at', at]);
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/next run {4}\S+ \S+ \(in (29|30) min\)/);
    const schedules = expectSchedulesJson(JSON.parse((await cli(store, ['schedules', 'reports', '--json'])).out));
    expect(Math.abs(Date.parse(schedules.now) - (Date.now() + HOUR))).toBeLessThan(SLACK);
    const ahead = Date.parse(schedules.schedules[0]?.nextRunAt ?? '') - Date.parse(schedules.now);
    expect(ahead).toBeGreaterThan(28 * 60_000);
    expect(ahead).toBeLessThanOrEqual(30 * 60_000);
  });

  it('syncs once per command, with three pings; TICKWORK_NOW keeps its fixed clock and pings nothing', async () => {
    const { store, counter } = skewedStore(HOUR);
    await cli(store, ['list']);
    expect(counter.pings).toBe(3);
    counter.pings = 0;
    await cli(store, ['run']);
    expect(counter.pings).toBe(3);
    counter.pings = 0;
    const fixed = expectListJson(JSON.parse((await cli(store, ['list', '--json'], { TICKWORK_NOW: '2026-01-05T10:00:05Z' })).out));
    expect(fixed.now).toBe('2026-01-05T10:00:05.000Z');
    expect(counter.pings).toBe(0);
  });

  it('doctor still measures this machine’s clock against the store’s, uncorrected', async () => {
    const { store } = skewedStore(HOUR);
    const doctor = JSON.parse((await cli(store, ['doctor', '--json'])).out) as {
      checks: { name: string; status: string; detail: string }[];
    };
    const clock = doctor.checks.find((c) => c.name === 'clock');
    expect(clock?.status).toBe('fail');
    expect(clock?.detail).toMatch(/^local clock is 3\d{6} ms behind the store's$/);
  });
});

describe('run on a host whose clock runs ahead of the store', () => {
  it('waits for the store clock to reach the instant it was started at, so the slot due then runs in this tick', async () => {
    const { memory, store } = skewedStore(-2_000);
    // Cron started this tick at the host's :00 (a few ms ago); the store still says :58.
    const startedAt = new Date(Date.now() - 5);
    const config = defineConfig({ jobs: [{ code: 'minutely', schedule: once(startedAt), run: () => undefined }], store });
    const io = captureIo({});
    expect(await runCli(['run', '--json'], { io, config })).toBe(0);
    const report = expectRunReportJson(JSON.parse(io.out()));
    expect(report.results.map((r) => [r.outcome, r.slotAt])).toEqual([['succeeded', startedAt.toISOString()]]);
    const [run] = (await memory.queryRuns()).runs;
    // Started at the store's version of the slot instant, not before it.
    expect(run?.startedAt.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
    expect(run?.slotAt.toISOString()).toBe(startedAt.toISOString());
  });

  it('does not wait when the store is more than 10 s behind: the slot is not due on the store clock yet', async () => {
    // A wait of 60 s would exceed the test's timeout.
    const { store } = skewedStore(-60_000);
    const startedAt = new Date(Date.now() - 5);
    const config = defineConfig({ jobs: [{ code: 'minutely', schedule: once(startedAt), run: () => undefined }], store });
    const io = captureIo({});
    expect(await runCli(['run', '--json'], { io, config })).toBe(0);
    const report = expectRunReportJson(JSON.parse(io.out()));
    expect(report.results.map((r) => [r.outcome, r.nextSlotAt])).toEqual([['not-due', startedAt.toISOString()]]);
    expect(Date.parse(report.startedAt)).toBeLessThan(startedAt.getTime() - 50_000);
  });
});
