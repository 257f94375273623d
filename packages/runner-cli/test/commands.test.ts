import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBackend,
  createMemoryStore,
  defineConfig,
  every,
  StoreUnavailableError,
  type JobInput,
  type MemoryBackend,
  type Store,
  type TickworkConfig,
} from '@tickwork/core';
import { runCli } from '../src/program.js';
import { captureIo } from './fixtures/capture.js';
import { expectListJson, expectLogsJson, expectRunReportJson } from './fixtures/json-shapes.js';

let backend: MemoryBackend;
const opened: Store[] = [];

function storeOn(shared: MemoryBackend): () => Store {
  return () => {
    const store = createMemoryStore({ backend: shared });
    opened.push(store);
    return store;
  };
}

function configWith(jobs: JobInput[], extra: Partial<TickworkConfig> = {}): TickworkConfig {
  backend = createMemoryBackend();
  return defineConfig({ jobs, store: storeOn(backend), ...extra });
}

async function cli(config: TickworkConfig, argv: string[], now = '2026-01-05T10:00:05Z') {
  const io = captureIo({ TICKWORK_NOW: now });
  const code = await runCli(argv, { io, config });
  return { code, out: io.out(), err: io.errText() };
}

function inspect(): Store {
  return createMemoryStore({ backend });
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
});

describe('tickwork run', () => {
  it('runs a due slot once across two consecutive ticks, then the next slot when it comes', async () => {
    let calls = 0;
    const config = configWith([{ code: 'report', schedule: every('5m'), run: () => void calls++ }]);

    const first = await cli(config, ['run'], '2026-01-05T10:00:05Z');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/report\s+succeeded\s+2026-01-05 10:00:00Z/);
    const second = await cli(config, ['run'], '2026-01-05T10:01:00Z');
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/report\s+not-due/);
    expect(second.out).toContain('next in 4 min');
    expect(calls).toBe(1);

    const third = await cli(config, ['run'], '2026-01-05T10:05:01Z');
    expect(third.code).toBe(0);
    expect(calls).toBe(2);
    const { runs } = await inspect().queryRuns({ code: 'report' });
    expect(runs.map((r) => [r.slotAt.toISOString(), r.status])).toEqual([
      ['2026-01-05T10:05:00.000Z', 'succeeded'],
      ['2026-01-05T10:00:00.000Z', 'succeeded'],
    ]);
  });

  it('exits 1 when a job fails and shows its error', async () => {
    const config = configWith([
      { code: 'ok', schedule: every('1m'), run: () => undefined },
      { code: 'broken', schedule: every('1m'), run: () => Promise.reject(new Error('disk full')) },
    ]);
    const result = await cli(config, ['run']);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/broken\s+failed.*disk full/);
    expect(result.out).toMatch(/ok\s+succeeded/);
    expect(result.out).toContain('FAILED');
  });

  it('exits 1 when a job times out', async () => {
    const config = configWith([
      { code: 'slow', schedule: every('1m'), timeout: 50, run: ({ signal }) => new Promise((r) => signal.addEventListener('abort', r)) },
    ]);
    const result = await cli(config, ['run', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out).results[0].outcome).toBe('timed_out');
  });

  it('exits 2 on an unknown job code, lists the known ones, and touches nothing', async () => {
    const config = configWith([
      { code: 'a', schedule: every('1m'), run: () => undefined },
      { code: 'b', schedule: every('1m'), run: () => undefined },
    ]);
    const result = await cli(config, ['run', 'a', 'nope']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown job code "nope"; known codes: a, b');
    expect(await inspect().getStates()).toEqual([]);
  });

  it('--dry-run reports what would run and changes nothing in the store', async () => {
    let calls = 0;
    const config = configWith([{ code: 'report', schedule: every('5m'), run: () => void calls++ }]);
    const result = await cli(config, ['run', '--dry-run', '--json']);
    expect(result.code).toBe(0);
    const report = expectRunReportJson(JSON.parse(result.out));
    expect(report.dryRun).toBe(true);
    expect(report.results.map((r) => [r.code, r.outcome, r.slotAt])).toEqual([['report', 'would-run', '2026-01-05T10:00:00.000Z']]);
    expect(calls).toBe(0);
    const store = inspect();
    expect(await store.getStates()).toEqual([]);
    expect((await store.queryRuns()).runs).toEqual([]);
  });

  it('--force runs a job that is not due, still once per slot', async () => {
    let calls = 0;
    const config = configWith([{ code: 'nightly', schedule: every('1d'), run: () => void calls++ }]);
    expect((await cli(config, ['run'], '2026-01-05T10:00:05Z')).out).toMatch(/nightly\s+not-due/);
    const forced = await cli(config, ['run', 'nightly', '--force', '--json'], '2026-01-05T10:00:06Z');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.out).results[0]).toMatchObject({ code: 'nightly', outcome: 'succeeded', slotAt: '2026-01-05T10:00:06.000Z' });
    const again = await cli(config, ['run', 'nightly', '--force', '--json'], '2026-01-05T10:00:06Z');
    expect(JSON.parse(again.out).results[0].outcome).toBe('taken');
    expect(calls).toBe(1);
  });

  it('--silent prints nothing when all is well and only the failures otherwise', async () => {
    const fine = configWith([{ code: 'ok', schedule: every('1m'), run: () => undefined }]);
    expect(await cli(fine, ['run', '--silent'])).toEqual({ code: 0, out: '', err: '' });
    const failing = configWith([
      { code: 'ok', schedule: every('1m'), run: () => undefined },
      { code: 'bad', schedule: every('1m'), run: () => Promise.reject(new Error('boom')) },
    ]);
    const result = await cli(failing, ['run', '--silent']);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/bad\s+failed/);
    expect(result.out).not.toMatch(/\bok\s+succeeded/);
  });

  it('SIGINT during a run aborts the handler, records the run interrupted and exits 130', async () => {
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const config = configWith([
      {
        code: 'long',
        schedule: every('1m'),
        run: ({ signal }) => {
          started();
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        },
      },
    ]);
    const io = captureIo({ TICKWORK_NOW: '2026-01-05T10:00:05Z' });
    const exit = runCli(['run'], { io, config });
    await running;
    io.signal('SIGINT');
    expect(await exit).toBe(130);
    expect(io.errText()).toContain('SIGINT: interrupting running jobs');
    const { runs } = await inspect().queryRuns({ code: 'long' });
    expect(runs.map((r) => r.status)).toEqual(['interrupted']);
  });

  it('exits 3 when the store is unavailable, with the message naming where it looked', async () => {
    const config = defineConfig({
      jobs: [{ code: 'a', schedule: every('1m'), run: () => undefined }],
      store: () => {
        throw new StoreUnavailableError('[tickwork] [store-sql] cannot reach PostgreSQL at 10.9.9.9:5432/app (ECONNREFUSED)');
      },
    });
    const result = await cli(config, ['run']);
    expect(result.code).toBe(3);
    expect(result.err).toContain('10.9.9.9:5432');
  });
});

describe('a job with maxRuns', () => {
  it('shows its runs left in list, and ended once they are used up', async () => {
    let calls = 0;
    const config = configWith([{ code: 'twice', schedule: every('5m'), maxRuns: 2, run: () => void calls++ }]);
    const before = expectListJson(JSON.parse((await cli(config, ['list', '--json'])).out));
    expect(before.jobs[0]).toMatchObject({ maxRuns: 2, scheduledRuns: 0, remainingRuns: 2 });
    expect((await cli(config, ['list'])).out).toMatch(/twice .*in \d+ min \(2 of 2 runs left\)/);
    await cli(config, ['run'], '2026-01-05T10:05:01Z');
    expect((await cli(config, ['list'], '2026-01-05T10:05:02Z')).out).toMatch(/twice .*\(1 of 2 runs left\)/);
    await cli(config, ['run'], '2026-01-05T10:10:01Z');
    const ended = await cli(config, ['run'], '2026-01-05T10:15:01Z');
    expect(ended.out).toMatch(/twice\s+ended\s+.*schedule ended: its 2 scheduled runs \(maxRuns\) were claimed/);
    expect(calls).toBe(2);
    const after = expectListJson(JSON.parse((await cli(config, ['list', '--json'], '2026-01-05T10:15:02Z')).out));
    expect(after.jobs[0]).toMatchObject({ scheduledRuns: 2, remainingRuns: 0, nextRunAt: null });
    expect((await cli(config, ['list'], '2026-01-05T10:15:02Z')).out).toContain('ended: 2 of 2 runs');
  });
});

describe('pause, resume and trigger', () => {
  it('round-trip through the store and show in list', async () => {
    let calls = 0;
    const config = configWith([
      { code: 'sync', schedule: every('1h'), description: 'sync accounts', run: () => void calls++ },
      { code: 'other', schedule: every('1h'), run: () => undefined },
    ]);
    const paused = await cli(config, ['pause', 'sync', '--note', 'vendor outage']);
    expect(paused.code).toBe(0);
    expect(paused.out).toContain('paused "sync" (vendor outage)');

    const listed = expectListJson(JSON.parse((await cli(config, ['list', '--json'])).out));
    expect(listed.jobs.find((j) => j.code === 'sync')).toMatchObject({ paused: true, pausedNote: 'vendor outage', nextRunAt: null });
    expect(listed.jobs.find((j) => j.code === 'other')).toMatchObject({ paused: false });
    expect((await cli(config, ['list'])).out).toMatch(/sync .*paused: vendor outage/);

    const whilePaused = await cli(config, ['run', 'sync', '--json']);
    expect(JSON.parse(whilePaused.out).results[0].outcome).toBe('paused');

    // A run-now request for a paused job stays pending, visibly.
    await inspect().requestRun({ code: 'sync', key: '' }, { now: new Date('2026-01-05T10:00:00Z') });
    await cli(config, ['run', 'sync', '--json']);
    const pendingList = expectListJson(JSON.parse((await cli(config, ['list', '--json'])).out));
    expect(pendingList.jobs.find((j) => j.code === 'sync')?.pendingRequests).toBe(1);
    expect((await cli(config, ['list'])).out).toMatch(/sync .*\(\+1 run-now pending\)/);

    expect((await cli(config, ['resume', 'sync'])).code).toBe(0);
    const resumed = expectListJson(JSON.parse((await cli(config, ['list', '--json'])).out));
    expect(resumed.jobs.find((j) => j.code === 'sync')).toMatchObject({ paused: false, pausedNote: null });

    const triggered = await cli(config, ['trigger', 'sync'], '2026-01-05T10:20:00Z');
    expect(triggered.code).toBe(0);
    expect(triggered.out).toContain('tickwork run sync --force');
    // The one filed while paused and this one: each runs once.
    expect(await inspect().pendingRunRequests()).toHaveLength(2);
    const ran = await cli(config, ['run', '--json'], '2026-01-05T10:20:30Z');
    expect(
      JSON.parse(ran.out)
        .results.filter((r: { code: string }) => r.code === 'sync')
        .map((r: { outcome: string }) => r.outcome),
    ).toEqual(['succeeded', 'succeeded']);
    expect(calls).toBe(2);
    expect(await inspect().pendingRunRequests()).toHaveLength(0);
    const { runs } = await inspect().queryRuns({ code: 'sync' });
    expect(runs.map((r) => r.trigger)).toEqual(['manual', 'manual']);
  });

  it('rejects an unknown code with exit 2 and writes nothing', async () => {
    const config = configWith([{ code: 'sync', schedule: every('1h'), run: () => undefined }]);
    const result = await cli(config, ['pause', 'sink']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('known codes: sync');
    expect(await inspect().getStates()).toEqual([]);
  });
});

describe('list, logs and prune', () => {
  it('list shows schedule, timezone, next and last run and failures', async () => {
    const config = configWith(
      [
        { code: 'ok', schedule: every('5m'), run: () => undefined },
        { code: 'bad', schedule: every('5m'), run: () => Promise.reject(new Error('no')) },
        { code: 'off', schedule: every('5m'), enabled: false, run: () => undefined },
      ],
      { timezone: 'Europe/Paris' },
    );
    await cli(config, ['run'], '2026-01-05T10:00:05Z');
    const listed = expectListJson(JSON.parse((await cli(config, ['list', '--json'], '2026-01-05T10:01:00Z')).out));
    const bad = listed.jobs.find((j) => j.code === 'bad');
    expect(bad).toMatchObject({
      lastStatus: 'failed',
      consecutiveFailures: 1,
      nextRunAt: '2026-01-05T10:05:00.000Z',
      lastRunAt: '2026-01-05T10:00:05.000Z',
    });
    expect(bad?.schedule).toMatch(/5 min/);
    expect(listed.jobs.find((j) => j.code === 'off')).toMatchObject({ enabled: false, nextRunAt: null });
    const text = (await cli(config, ['list'], '2026-01-05T10:01:00Z')).out;
    expect(text).toMatch(/^JOB\s+SCHEDULE\s+TZ\s+NEXT\s+LAST\s+PAUSED\s+FAILURES\s+LAST SKIP\s+RUNTIME SCHEDULES$/m);
    expect(text).toMatch(/^bad\s+every 5 minutes\s+UTC\s+in 4 min\s+55 s ago failed\s+1\s+—\s+0$/m);
  });

  it('logs filters by code, status and since, newest first in JSON', async () => {
    const config = configWith([
      { code: 'ok', schedule: every('1m'), run: ({ report }) => report('42 rows') },
      { code: 'bad', schedule: every('1m'), run: () => Promise.reject(new Error('nope')) },
    ]);
    await cli(config, ['run'], '2026-01-05T10:00:05Z');
    await cli(config, ['run'], '2026-01-05T10:01:05Z');
    const all = expectLogsJson(JSON.parse((await cli(config, ['logs', '--json'], '2026-01-05T10:02:00Z')).out));
    expect(all.runs).toHaveLength(4);
    expect((all.runs[0]?.startedAt ?? '') > (all.runs[3]?.startedAt ?? '')).toBe(true);
    const failed = expectLogsJson(JSON.parse((await cli(config, ['logs', '--status', 'failed', '--json'])).out));
    expect(failed.runs.map((r) => [r.code, r.error])).toEqual([
      ['bad', 'nope'],
      ['bad', 'nope'],
    ]);
    const recent = expectLogsJson(JSON.parse((await cli(config, ['logs', 'ok', '--since', '90s', '--json'], '2026-01-05T10:02:00Z')).out));
    expect(recent.runs.map((r) => [r.slotAt, r.message])).toEqual([['2026-01-05T10:01:00.000Z', '42 rows']]);
    const text = (await cli(config, ['logs', 'ok'], '2026-01-05T10:02:00Z')).out.split('\n');
    expect(text[0]).toMatch(/^STARTED \(UTC\)\s+JOB\s+STATUS/);
    expect(text[1]).toContain('2026-01-05 10:00:05Z');
    expect(text[2]).toContain('2026-01-05 10:01:05Z');
    const bad = await cli(config, ['logs', '--status', 'sad']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--status: "sad" is not a run status');
  });

  it('logs --status skipped --reason lists the skipped slots with that reason, list shows the last one, a bad reason exits 2', async () => {
    const config = configWith([{ code: 'minutely', schedule: every('1m'), run: () => undefined }]);
    await cli(config, ['run'], '2026-01-05T10:00:05Z');
    await cli(config, ['pause', 'minutely'], '2026-01-05T10:00:30Z');
    await cli(config, ['resume', 'minutely'], '2026-01-05T10:03:30Z');
    await cli(config, ['run'], '2026-01-05T10:06:05Z');
    const paused = expectLogsJson(
      JSON.parse((await cli(config, ['logs', '--status', 'skipped', '--reason', 'paused', '--json'], '2026-01-05T10:07:00Z')).out),
    );
    expect(paused.runs.map((r) => [r.slotAt, r.rangeLastSlotAt, r.slotCount, r.skipReason])).toEqual([
      ['2026-01-05T10:01:00.000Z', '2026-01-05T10:03:00.000Z', 3, 'paused'],
    ]);
    const missed = expectLogsJson(
      JSON.parse((await cli(config, ['logs', '--reason', 'missed-run-policy', '--json'], '2026-01-05T10:07:00Z')).out),
    );
    expect(missed.runs.map((r) => [r.slotAt, r.slotCount])).toEqual([['2026-01-05T10:04:00.000Z', 2]]);
    expect((await cli(config, ['logs', '--reason', 'overlap'])).out).toBe('no runs match\n');
    const text = (await cli(config, ['logs', '--reason', 'paused,missed-run-policy'], '2026-01-05T10:07:00Z')).out;
    expect(text).toContain('2026-01-05 10:01:00Z … 2026-01-05 10:03:00Z (3 slots)');
    expect(text).toContain('[paused]');
    const listed = expectListJson(JSON.parse((await cli(config, ['list', '--json'], '2026-01-05T10:07:00Z')).out));
    expect(listed.jobs[0]).toMatchObject({ lastSkipReason: 'missed-run-policy', lastSkippedSlotAt: '2026-01-05T10:05:00.000Z' });
    expect((await cli(config, ['list'], '2026-01-05T10:07:00Z')).out).toContain('missed-run-policy (slot 2 min ago)');
    const before = (await inspect().queryRuns({ limit: 1000 })).runs;
    const bad = await cli(config, ['logs', '--status', 'skipped', '--reason', 'lazy']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--reason: "lazy" is not a skip reason; known: overlap, paused');
    expect((await inspect().queryRuns({ limit: 1000 })).runs).toEqual(before);
  });

  it('prune deletes finished runs older than --older-than', async () => {
    const config = configWith([{ code: 'ok', schedule: every('1h'), run: () => undefined }]);
    await cli(config, ['run'], '2026-01-05T10:00:05Z');
    await cli(config, ['run'], '2026-01-05T11:00:05Z');
    const result = await cli(config, ['prune', '--older-than', '30m'], '2026-01-05T11:10:00Z');
    expect(result.code).toBe(0);
    expect(result.out).toContain('deleted 1 finished run ');
    expect((await inspect().queryRuns()).runs.map((r) => r.slotAt.toISOString())).toEqual(['2026-01-05T11:00:00.000Z']);
    const invalid = await cli(config, ['prune', '--older-than', 'forever']);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain('--older-than');
  });
});

describe('doctor, migrate and crontab', () => {
  it('doctor checks config, store, schema, clock and timezones', async () => {
    const config = configWith([{ code: 'a', schedule: every('1m'), timezone: 'Asia/Tokyo', run: () => undefined }], {
      timezone: 'Europe/Paris',
    });
    const io = captureIo({});
    const code = await runCli(['doctor', '--json'], { io, config });
    const json = JSON.parse(io.out()) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    expect(code).toBe(0);
    expect(json.ok).toBe(true);
    expect(json.checks.map((c) => c.name)).toEqual(['config', 'store', 'schema', 'clock', 'timezones']);
    expect(json.checks.find((c) => c.name === 'timezones')?.detail).toMatch(/Europe\/Paris, Asia\/Tokyo known/);
  });

  it('doctor fails the store check with exit 1 when the store is down', async () => {
    const config = defineConfig({
      jobs: [],
      store: () => {
        throw new StoreUnavailableError('[tickwork] cannot reach redis at 127.0.0.1:1');
      },
    });
    const io = captureIo({});
    expect(await runCli(['doctor'], { io, config })).toBe(1);
    expect(io.out()).toMatch(/store\s+fail\s+.*127\.0\.0\.1:1/);
    expect(io.out()).toMatch(/schema\s+skipped/);
  });

  it('migrate calls the store migrate() hook when it has one', async () => {
    let migrated = 0;
    const base = createMemoryStore();
    opened.push(base);
    const store = Object.assign(Object.create(base) as Store, {
      migrate: async () => {
        migrated += 1;
        return { applied: ['0001_init'] };
      },
    });
    const config = defineConfig({ jobs: [], store });
    const io = captureIo({});
    expect(await runCli(['migrate'], { io, config })).toBe(0);
    expect(migrated).toBe(1);
    expect(io.out()).toContain('applied 0001_init');
    const plain = configWith([]);
    const without = await cli(plain, ['migrate']);
    expect(without).toMatchObject({ code: 0, out: 'the memory store has no migrations: nothing to do\n' });
  });
});

describe('signals, follow and help', () => {
  it('SIGTERM during a run exits 143 with the run recorded interrupted', async () => {
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const config = configWith([
      { code: 'long', schedule: every('1m'), run: ({ signal }) => (started(), new Promise((r) => signal.addEventListener('abort', r))) },
    ]);
    const io = captureIo({ TICKWORK_NOW: '2026-01-05T10:00:05Z' });
    const exit = runCli(['run', '--json'], { io, config });
    await running;
    io.signal('SIGTERM');
    expect(await exit).toBe(143);
    const report = expectRunReportJson(JSON.parse(io.out()));
    expect(report).toMatchObject({ ok: false, exitCode: 143, interruptedBy: 'SIGTERM' });
    expect(report.results[0]?.outcome).toBe('interrupted');
  });

  it('logs --follow --status prints a run that was running when first seen once it finishes into the filter', async () => {
    const config = configWith([{ code: 'tick', schedule: every('1m'), run: () => undefined }]);
    const store = inspect();
    const now = new Date('2026-01-05T10:00:05Z');
    const claim = (slot: string) =>
      store.claimSlots(
        [{ code: 'tick', key: '', slotAt: new Date(slot), attempt: 1, trigger: 'schedule', overlap: 'allowAll', leaseMs: 600_000 }],
        { runnerId: 'r', now },
      );
    const [long] = await claim('2026-01-05T10:00:00Z');
    const io = captureIo({ TICKWORK_NOW: '2026-01-05T10:00:05Z' });
    const follow = runCli(['logs', '--follow', '--json', '--status', 'failed'], { io, config });
    const lines = () =>
      io
        .out()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { slotAt: string; status: string });
    const { until } = await import('./fixtures/project.js');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [quick] = await claim('2026-01-05T10:01:00Z');
    const fail = async (outcome: typeof quick) => {
      if (outcome?.status !== 'claimed') throw new Error('claim failed');
      await store.completeRuns([{ lease: outcome.lease, status: 'failed', finishedAt: now, error: 'x' }]);
    };
    await fail(quick);
    await until(() => lines().length === 1, 'the later run, failed first');
    await fail(long); // started earlier than the run already printed
    await until(() => lines().length === 2, 'the earlier run, once it failed too');
    io.signal('SIGINT');
    expect(await follow).toBe(0);
    expect(
      lines()
        .map((r) => r.slotAt)
        .sort(),
    ).toEqual(['2026-01-05T10:00:00.000Z', '2026-01-05T10:01:00.000Z']);
  });

  it('logs --follow prints new runs as they are recorded until interrupted', async () => {
    const config = configWith([{ code: 'tick', schedule: every('1m'), run: () => undefined }]);
    await cli(config, ['run'], '2026-01-05T10:00:05Z');
    const io = captureIo({});
    const follow = runCli(['logs', '--follow', '--json'], { io, config });
    const lines = () =>
      io
        .out()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { slotAt: string; status: string });
    const { until } = await import('./fixtures/project.js');
    await until(() => lines().length === 1, 'the existing run');
    await cli(config, ['run'], '2026-01-05T10:01:05Z');
    await until(() => lines().length === 2, 'the new run to be followed');
    io.signal('SIGINT');
    expect(await follow).toBe(0);
    expect(lines().map((r) => [r.slotAt, r.status])).toEqual([
      ['2026-01-05T10:00:00.000Z', 'succeeded'],
      ['2026-01-05T10:01:00.000Z', 'succeeded'],
    ]);
  });

  it('--help exits 0 and a bare command exits 2', async () => {
    const config = configWith([]);
    const help = captureIo({});
    expect(await runCli(['run', '--help'], { io: help, config })).toBe(0);
    expect(help.out()).toContain('--dry-run');
    const bare = captureIo({});
    expect(await runCli([], { io: bare, config })).toBe(2);
    expect(bare.errText()).toContain('Usage: tickwork');
  });
});
