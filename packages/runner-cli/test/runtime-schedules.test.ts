import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBackend,
  createMemoryStore,
  createScheduler,
  defineConfig,
  every,
  type JobInput,
  type MemoryBackend,
  type ScheduleDefinition,
  type Store,
  type TickworkConfig,
} from '@tickwork/core';
import { compileSchedule, nextSlot } from '@tickwork/core/schedule';
import { runCli } from '../src/program.js';
import { captureIo } from './fixtures/capture.js';
import { expectListJson, expectLogsJson, expectRunReportJson, expectScheduleSetJson, expectSchedulesJson } from './fixtures/json-shapes.js';

// Runtime schedules through the CLI, in process, on core's memory store (one backend per test).
let backend: MemoryBackend;
const opened: Store[] = [];
const NOW = '2026-01-05T10:00:05Z';

interface Payloaded {
  key: string;
  slot: string;
  payload: unknown;
}

function setup(jobs?: JobInput[], extra: Partial<TickworkConfig> = {}) {
  const calls: Payloaded[] = [];
  backend = createMemoryBackend();
  const config = defineConfig({
    jobs: jobs ?? [
      {
        code: 'reports',
        schedule: null,
        description: 'tenant reports',
        run: (ctx) => void calls.push({ key: ctx.key, slot: ctx.slot.toISOString(), payload: ctx.payload }),
      },
      { code: 'cache', schedule: every('5m'), run: () => undefined },
    ],
    store: () => {
      const store = createMemoryStore({ backend });
      opened.push(store);
      return store;
    },
    ...extra,
  });
  return { config, calls };
}

async function cli(config: TickworkConfig, argv: string[], now = NOW) {
  const io = captureIo({ TICKWORK_NOW: now });
  const code = await runCli(argv, { io, config });
  return { code, out: io.out(), err: io.errText() };
}

function inspect(): Store {
  return createMemoryStore({ backend });
}

/** Everything a schedule command could change. */
async function snapshot() {
  const store = inspect();
  return {
    schedules: (await store.listSchedules({ limit: 1000 })).schedules,
    states: await store.getStates(),
    requests: await store.pendingRunRequests(),
    runs: (await store.queryRuns()).runs,
  };
}

/** Creates `count` schedules of "reports" straight through core's API (what a host app does). */
async function bulk(count: number, make: (i: number) => Omit<ScheduleDefinition, 'key'>) {
  const scheduler = createScheduler({
    jobs: [{ code: 'reports', schedule: null, run: () => undefined }],
    store: inspect(),
    clock: { now: () => new Date('2026-01-05T09:00:00Z') },
  });
  for (let start = 0; start < count; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - start) }, (_, j) => ({
      key: `tenant-${String(start + j).padStart(5, '0')}`,
      ...make(start + j),
    }));
    await scheduler.schedules('reports').upsert(batch);
  }
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
});

describe('tickwork schedule set', () => {
  it('creates, changes and leaves unchanged, comparing versions, and prints what is stored', async () => {
    const { config } = setup();
    const created = await cli(
      config,
      [
        'schedule',
        'set',
        'reports',
        'acme',
        '--daily',
        '06:00,18:30',
        '--tz',
        'Europe/Paris',
        '--payload',
        '{"tenant":"acme","lang":"fr"}',
        '--timeout',
        '5m',
      ],
      '2026-01-05T09:00:00Z',
    );
    expect(created.err).toBe('');
    expect(created.code).toBe(0);
    expect(created.out).toContain('created runtime schedule "acme" of job "reports" (version');
    expect(created.out).toMatch(/schedule\s+at 06:00 and 18:30 every day \(Europe\/Paris\)/);
    expect(created.out).toMatch(/next run\s+2026-01-05 17:30:00Z \(in 8 h\)/);
    expect(created.out).toMatch(/payload\s+\{"lang":"fr","tenant":"acme"\}/);
    expect(created.out).toMatch(/options\s+timeout 5 min/);

    const [stored] = (await inspect().listSchedules()).schedules;
    expect(stored).toMatchObject({
      code: 'reports',
      key: 'acme',
      timezone: 'Europe/Paris',
      payload: { tenant: 'acme', lang: 'fr' },
      enabled: true,
      options: { timeoutMs: 300_000 },
    });
    expect(stored?.schedule).toEqual({ kind: 'daily', times: ['06:00', '18:30'] });

    const again = expectScheduleSetJson(
      JSON.parse(
        (
          await cli(config, [
            'schedule',
            'set',
            'reports',
            'acme',
            '--daily',
            '06:00,18:30',
            '--tz',
            'Europe/Paris',
            '--payload',
            '{"lang":"fr","tenant":"acme"}',
            '--timeout',
            '5m',
            '--json',
          ])
        ).out,
      ),
    );
    expect(again).toMatchObject({ change: 'unchanged', previousVersion: stored?.version, schedule: { version: stored?.version } });

    // The whole definition is replaced: the timeout and the zone left out are gone.
    const changed = await cli(config, [
      'schedule',
      'set',
      'reports',
      'acme',
      '--cron',
      '*/15 * * * *',
      '--disabled',
      '--description',
      'paused for audit',
    ]);
    expect(changed.code).toBe(0);
    expect(changed.out).toMatch(new RegExp(`changed runtime schedule "acme" of job "reports" \\(version ${stored?.version} → \\d+\\)`));
    expect(changed.out).toMatch(/enabled\s+no/);
    expect(changed.out).toMatch(/next run\s+—/);
    const [replaced] = (await inspect().listSchedules()).schedules;
    expect(replaced).toMatchObject({
      schedule: { kind: 'cron', expression: '*/15 * * * *' },
      timezone: null,
      payload: null,
      enabled: false,
      options: {},
      description: 'paused for audit',
    });
    expect(replaced?.version).toBeGreaterThan(stored?.version ?? Infinity);
  });

  it('takes every form of the cron language in --cron, H seeded from the job and the key as core seeds it', async () => {
    const { config } = setup();
    const set = await cli(
      config,
      ['schedule', 'set', 'reports', 'acme', '--cron', 'H 12 15W * *', '--tz', 'Europe/Paris', '--json'],
      '2026-01-05T09:00:00Z',
    );
    expect(set.err).toBe('');
    expect(set.code).toBe(0);
    const [stored] = (await inspect().listSchedules()).schedules;
    expect(stored?.schedule).toEqual({ kind: 'cron', expression: 'H 12 15W * *', hashSeed: 'reports acme' });
    const expected = nextSlot(
      compileSchedule({ kind: 'cron', expression: 'H 12 15W * *', hashSeed: 'reports acme' }, { timezone: 'Europe/Paris' }),
      new Date('2026-01-05T09:00:00Z'),
    );
    expect(expectScheduleSetJson(JSON.parse(set.out)).schedule.nextRunAt).toBe(expected?.toISOString());
    for (const expression of ['0 0 L-2 * *', '0 9 ? * TUE#2', '0 0 13 * +FRI', '0 30 9 * * 1-5 2026-2030', '0 0 LW * *']) {
      expect((await cli(config, ['schedule', 'set', 'reports', 'acme', '--cron', expression])).code).toBe(0);
    }
    const before = await snapshot();
    const bad = await cli(config, ['schedule', 'set', 'reports', 'acme', '--cron', '0 0 * * TUE#6']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('day-of-week field: "TUE#6"');
    expect(await snapshot()).toEqual(before);
  });

  it('takes --dst for --cron and --daily: the stored spec holds the policy and the next run follows it', async () => {
    const { config } = setup();
    // New York springs forward on 2026-03-08 at 02:00 → 03:00: 02:30 does not exist that day.
    const at = '2026-03-07T12:00:00Z';
    const next = async (key: string, extra: string[]) => {
      const set = await cli(
        config,
        ['schedule', 'set', 'reports', key, '--cron', '30 2 * * *', '--tz', 'America/New_York', ...extra, '--json'],
        at,
      );
      expect(set.err).toBe('');
      return expectScheduleSetJson(JSON.parse(set.out)).schedule;
    };
    expect((await next('default', [])).nextRunAt).toBe('2026-03-08T07:00:00.000Z'); // 03:00 EDT, the first instant after the gap
    const shifted = await next('shift', ['--dst', 'gap=shift,overlap=last']);
    expect(shifted.spec).toEqual({ kind: 'cron', expression: '30 2 * * *', dst: { gap: 'shift', overlap: 'last' } });
    expect(shifted.nextRunAt).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT: the wall-clock distance kept
    expect((await next('skip', ['--dst', 'gap=skip'])).nextRunAt).toBe('2026-03-09T06:30:00.000Z'); // not that day at all
    const daily = await cli(
      config,
      ['schedule', 'set', 'reports', 'daily', '--daily', '02:30', '--tz', 'America/New_York', '--dst', 'overlap=both'],
      at,
    );
    expect(daily.code).toBe(0);
    expect(daily.out).toMatch(/dst\s+overlap both/);
    const [, , , stored] = (await inspect().listSchedules({ code: 'reports' })).schedules;
    expect(stored).toMatchObject({ key: 'skip', schedule: { dst: { gap: 'skip' } } });
  });

  it('takes --max-runs: the schedule ends after that many scheduled runs, shown by set, schedules and run', async () => {
    const { config, calls } = setup();
    const set = expectScheduleSetJson(
      JSON.parse((await cli(config, ['schedule', 'set', 'reports', 'twice', '--every', '1m', '--max-runs', '2', '--json'])).out),
    );
    expect(set.schedule).toMatchObject({ options: { maxRuns: 2 }, maxRuns: 2, scheduledRuns: 0, remainingRuns: 2 });
    const text = await cli(config, ['schedule', 'set', 'reports', 'twice', '--every', '1m', '--max-runs', '2']);
    expect(text.out).toMatch(/runs\s+0 of at most 2 scheduled \(2 left\)/);
    expect(text.out).toContain('at most 2 scheduled runs');
    for (const now of ['2026-01-05T10:01:05Z', '2026-01-05T10:02:05Z']) expect((await cli(config, ['run'], now)).code).toBe(0);
    expect(calls.map((c) => c.slot)).toEqual(['2026-01-05T10:01:00.000Z', '2026-01-05T10:02:00.000Z']);
    const ended = await cli(config, ['run', '--json'], '2026-01-05T10:03:05Z');
    expect(expectRunReportJson(JSON.parse(ended.out)).results.find((r) => r.key === 'twice')).toMatchObject({
      outcome: 'ended',
      nextSlotAt: null,
    });
    expect(calls).toHaveLength(2);
    const listed = await cli(config, ['schedules', 'reports'], '2026-01-05T10:03:05Z');
    expect(listed.out).toContain('ended: 2 of 2 runs');
    const json = expectSchedulesJson(JSON.parse((await cli(config, ['schedules', 'reports', '--json'], '2026-01-05T10:03:05Z')).out));
    expect(json.schedules[0]).toMatchObject({ key: 'twice', maxRuns: 2, scheduledRuns: 2, remainingRuns: 0, nextRunAt: null });
  });

  it('takes --every, --at, start/expiry and job options', async () => {
    const { config } = setup();
    const every = expectScheduleSetJson(
      JSON.parse(
        (
          await cli(config, [
            'schedule',
            'set',
            'reports',
            'poll',
            '--every',
            '90s',
            '--start-at',
            '2026-01-06T00:00:00+01:00',
            '--expires-at',
            '2026-02-01T00:00:00Z',
            '--jitter',
            '10s',
            '--retry-after-failure',
            '2m',
            '--lease-ttl',
            '1m',
            '--allow-parallel-runs',
            '--missed-run-policy',
            'all:6h',
            '--json',
          ])
        ).out,
      ),
    );
    expect(every.change).toBe('created');
    expect(every.schedule).toMatchObject({
      schedule: 'every 90 seconds',
      spec: { kind: 'every', everyMs: 90_000 },
      startAt: '2026-01-05T23:00:00.000Z',
      expiresAt: '2026-02-01T00:00:00.000Z',
      options: {
        jitterMs: 10_000,
        retryAfterFailureMs: 120_000,
        leaseTtlMs: 60_000,
        allowParallelRuns: true,
        missedRunPolicy: { all: { withinMs: 21_600_000 } },
      },
    });
    // Jitter delays the first slot (23:00) by a stable amount under 10 s.
    expect(every.schedule.nextRunAt).toMatch(/^2026-01-05T23:00:0\d\.\d{3}Z$/);
    const buffered = expectScheduleSetJson(
      JSON.parse(
        (await cli(config, ['schedule', 'set', 'reports', 'queue', '--every', '5m', '--overlap-policy', 'bufferAll', '--json'])).out,
      ),
    );
    expect(buffered.schedule).toMatchObject({ options: { overlapPolicy: 'bufferAll' } });
    const once = expectScheduleSetJson(
      JSON.parse((await cli(config, ['schedule', 'set', 'reports', 'one-off', '--at', '2026-01-05T12:00:00+01:00', '--json'])).out),
    );
    expect(once.schedule).toMatchObject({ spec: { kind: 'once', at: '2026-01-05T11:00:00.000Z' }, nextRunAt: '2026-01-05T11:00:00.000Z' });
  });

  it('--help says the whole definition is replaced', async () => {
    const { config } = setup();
    const help = await cli(config, ['schedule', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('The whole definition is replaced');
  });
});

describe('bad input to schedule commands', () => {
  const cases: [string, string[], string][] = [
    [
      'an unknown job code',
      ['schedule', 'set', 'reprots', 'acme', '--every', '5m'],
      'unknown job code "reprots"; known codes: reports, cache',
    ],
    [
      'an unknown overlap policy',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--overlap-policy', 'bufferTwo'],
      'job "reports" schedule "acme": overlapPolicy must be one of skip, bufferOne, bufferAll, cancelOther, allowAll, got "bufferTwo" (did you mean "bufferOne"?)',
    ],
    [
      'bufferOne with --allow-parallel-runs',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--overlap-policy', 'bufferOne', '--allow-parallel-runs'],
      'job "reports" schedule "acme": overlapPolicy \'bufferOne\' contradicts allowParallelRuns: true',
    ],
    [
      'an invalid cron expression',
      ['schedule', 'set', 'reports', 'acme', '--cron', '0 25 * * *'],
      'job "reports" schedule "acme": schedule: cron "0 25 * * *": hour field: "25" is out of range 0-23',
    ],
    [
      'a nonexistent timezone',
      ['schedule', 'set', 'reports', 'acme', '--cron', '0 6 * * *', '--tz', 'Mars/Olympus'],
      'timezone "Mars/Olympus" is not a known IANA timezone',
    ],
    [
      'a zone for an interval',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--tz', 'Europe/Paris'],
      '--tz: only --cron and --daily follow a timezone',
    ],
    [
      'a negative --every',
      ['schedule', 'set', 'reports', 'acme', '--every', '-5m'],
      'job "reports" schedule "acme": --every: "-5m" is not a duration',
    ],
    [
      'a zero --every',
      ['schedule', 'set', 'reports', 'acme', '--every', '0s'],
      'job "reports" schedule "acme": --every: duration must be a positive',
    ],
    [
      'two schedule options',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--cron', '* * * * *'],
      'give exactly one of --cron, --every, --at, --daily, got --cron, --every',
    ],
    [
      'no schedule option',
      ['schedule', 'set', 'reports', 'acme', '--payload', '{}'],
      'job "reports" schedule "acme": give one of --cron, --every, --at, --daily',
    ],
    [
      'a payload that is not JSON',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--payload', "{tenant:'acme'}"],
      'job "reports" schedule "acme": --payload is not JSON',
    ],
    [
      'a payload over 64 KiB',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--payload', JSON.stringify({ blob: 'x'.repeat(70_000) })],
      'payload is 70011 bytes as JSON; the limit is 65536',
    ],
    [
      'an instant without an offset',
      ['schedule', 'set', 'reports', 'acme', '--at', '2026-01-05T10:00'],
      '--at: "2026-01-05T10:00" is not an ISO instant with an offset',
    ],
    [
      'expiry before start',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--start-at', '2026-02-01T00:00:00Z', '--expires-at', '2026-01-01T00:00:00Z'],
      'expiresAt (2026-01-01T00:00:00.000Z) must be after startAt',
    ],
    [
      'an unknown missed-run policy',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--missed-run-policy', 'some'],
      '--missed-run-policy: "some" is not one of latest, skip, all:DURATION',
    ],
    [
      'an unknown --dst gap policy',
      ['schedule', 'set', 'reports', 'acme', '--cron', '0 2 * * *', '--dst', 'gap=later'],
      'job "reports" schedule "acme": --dst: "gap=later" in "gap=later" is not one of gap=next-instant|shift|skip and/or overlap=first|last|both',
    ],
    [
      'an unknown --dst field',
      ['schedule', 'set', 'reports', 'acme', '--daily', '02:30', '--dst', 'gap=shift,fold=last'],
      '--dst: "fold=last" in "gap=shift,fold=last" is not one of',
    ],
    [
      '--dst given as a bare word',
      ['schedule', 'set', 'reports', 'acme', '--daily', '02:30', '--dst', 'shift'],
      '--dst: "shift" in "shift" is not one of',
    ],
    [
      '--dst for an interval',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--dst', 'gap=skip'],
      'job "reports" schedule "acme": --dst: only --cron and --daily follow the wall clock',
    ],
    [
      '--max-runs 0',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--max-runs', '0'],
      'job "reports" schedule "acme": maxRuns must be an integer ≥ 1 (scheduled runs before the schedule ends), got 0',
    ],
    [
      '--max-runs that is not a whole number',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--max-runs', '2.5'],
      'job "reports" schedule "acme": --max-runs: "2.5" is not a whole number of runs (1 or more)',
    ],
    [
      '--max-runs that is negative',
      ['schedule', 'set', 'reports', 'acme', '--every', '5m', '--max-runs=-3'],
      '--max-runs: "-3" is not a whole number of runs',
    ],
    [
      'a key with a space',
      ['schedule', 'set', 'reports', 'acme corp', '--every', '5m'],
      'job "reports": key "acme corp" must be 1 … 200 characters',
    ],
    ['a key with a quote', ['schedule', 'set', 'reports', 'acme"', '--every', '5m'], 'key "acme\\"" must be 1 … 200 characters'],
    ['a key with a brace', ['schedule', 'set', 'reports', '{acme}', '--every', '5m'], 'key "{acme}" must be 1 … 200 characters'],
    [
      'rm of a missing key',
      ['schedule', 'rm', 'reports', 'globex'],
      'job "reports": no runtime schedule with key "globex"; nothing removed',
    ],
    ['pause of a missing key', ['schedule', 'pause', 'reports', 'globex'], 'job "reports": pause: no runtime schedule with key "globex"'],
    [
      'resume of a missing key',
      ['schedule', 'resume', 'reports', 'globex'],
      'job "reports": resume: no runtime schedule with key "globex"',
    ],
    [
      'trigger of a missing key',
      ['trigger', 'reports', '--key', 'globex'],
      'job "reports": no runtime schedule with key "globex"; no request was filed',
    ],
    ['rm for an unknown job', ['schedule', 'rm', 'reprots', 'acme'], 'unknown job code "reprots"'],
    ['schedules of an unknown job', ['schedules', 'reprots'], 'unknown job code "reprots"'],
    ['logs of a bad key', ['logs', '--key', 'a b'], '--key: key "a b" must be 1 … 200 characters'],
  ];

  it.each(cases)('rejects %s with exit 2 and a clear message, and changes nothing', async (_name, argv, message) => {
    const { config } = setup();
    expect((await cli(config, ['schedule', 'set', 'reports', 'acme', '--cron', '0 6 * * *', '--payload', '{"tenant":"acme"}'])).code).toBe(
      0,
    );
    const before = await snapshot();
    const result = await cli(config, argv);
    expect(result.code, result.err).toBe(2);
    expect(result.err).toContain(message);
    expect(result.out).toBe('');
    expect(await snapshot()).toEqual(before);
  });

  it('refuses to trigger a disabled schedule and files nothing', async () => {
    const { config } = setup();
    await cli(config, ['schedule', 'set', 'reports', 'acme', '--every', '1h', '--disabled']);
    const result = await cli(config, ['trigger', 'reports', '--key', 'acme']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('runtime schedule "acme" of "reports" is disabled (enabled: false)');
    expect(await inspect().pendingRunRequests()).toEqual([]);
  });
});

describe('tickwork schedules, rm, pause, resume and trigger --key', () => {
  it('round-trip through the store and show in schedules', async () => {
    const { config, calls } = setup();
    await cli(config, [
      'schedule',
      'set',
      'reports',
      'acme',
      '--cron',
      '0 6 * * *',
      '--tz',
      'Asia/Tokyo',
      '--payload',
      '{"tenant":"acme"}',
    ]);
    await cli(config, [
      'schedule',
      'set',
      'reports',
      'globex',
      '--every',
      '1h',
      '--payload',
      JSON.stringify({ tenant: 'globex', recipients: ['a@globex.test', 'b@globex.test'] }),
    ]);

    const paused = await cli(config, ['schedule', 'pause', 'reports', 'acme', '--note', 'contract ended']);
    expect(paused.code).toBe(0);
    expect(paused.out).toContain('paused runtime schedule "acme" of job "reports" (contract ended)');

    const text = (await cli(config, ['schedules', 'reports'])).out.split('\n');
    expect(text[0]).toMatch(/^KEY\s+SCHEDULE\s+TZ\s+ENABLED\s+PAUSED\s+NEXT\s+LAST\s+PAYLOAD$/);
    expect(text[1]).toMatch(
      /^acme\s+at 06:00 every day \(Asia\/Tokyo\)\s+Asia\/Tokyo\s+yes\s+paused: contract ended\s+—\s+never\s+\{"tenant":"acme"\}$/,
    );
    expect(text[2]).toMatch(/^globex\s+every hour\s+UTC\s+yes\s+in 59 min\s+never\s+\{"recipients":\["a@globex.test","b@globe…$/);
    expect(text[3]).toBe('2 runtime schedules of job "reports"');

    const json = expectSchedulesJson(JSON.parse((await cli(config, ['schedules', 'reports', '--json'])).out));
    expect(json).toMatchObject({ code: 'reports', truncated: false });
    expect(json.schedules.map((s) => [s.key, s.paused, s.pausedNote, s.nextRunAt])).toEqual([
      ['acme', true, 'contract ended', null],
      ['globex', false, null, '2026-01-05T11:00:00.000Z'],
    ]);
    expect(json.schedules[1]?.payload).toEqual({ tenant: 'globex', recipients: ['a@globex.test', 'b@globex.test'] });

    // A paused schedule is not run, even on request, until resumed; globex's 10:00 slot is due.
    expect((await cli(config, ['trigger', 'reports', '--key', 'acme'])).out).toContain(
      'the schedule is paused, so it runs after `tickwork schedule resume reports acme`',
    );
    expect((await cli(config, ['run', '--json'], '2026-01-05T10:00:10Z')).code).toBe(0);
    expect(calls.map((c) => [c.key, c.slot])).toEqual([['globex', '2026-01-05T10:00:00.000Z']]);
    const resumed = await cli(config, ['schedule', 'resume', 'reports', 'acme']);
    expect(resumed.out).toContain('resumed runtime schedule "acme" of job "reports"');
    const ran = expectRunReportJson(JSON.parse((await cli(config, ['run', '--json'], '2026-01-05T10:00:20Z')).out));
    expect(ran.results.filter((r) => r.outcome === 'succeeded').map((r) => [r.code, r.key])).toEqual([['reports', 'acme']]);
    expect(calls.slice(1)).toEqual([{ key: 'acme', slot: '2026-01-05T10:00:05.000Z', payload: { tenant: 'acme' } }]);
    expect((await inspect().queryRuns({ code: 'reports' })).runs.map((r) => [r.key, r.trigger])).toEqual([
      ['acme', 'manual'],
      ['globex', 'schedule'],
    ]);

    const removed = await cli(config, ['schedule', 'rm', 'reports', 'globex']);
    expect(removed).toMatchObject({ code: 0, err: '' });
    expect(removed.out).toContain('removed runtime schedule "globex" of job "reports"');
    expect((await inspect().listSchedules()).schedules.map((s) => s.key)).toEqual(['acme']);
    expect((await inspect().getStates()).map((s) => s.key).filter(Boolean)).toEqual(['acme']);
    const again = await cli(config, ['schedule', 'rm', 'reports', 'globex']);
    expect(again.code).toBe(2);
  });

  it('pages through every schedule by default, and stops at --limit', async () => {
    const { config } = setup();
    await bulk(2_500, (i) => ({ schedule: '0 3 * * *', payload: { tenant: i } }));
    const all = expectSchedulesJson(JSON.parse((await cli(config, ['schedules', 'reports', '--json'])).out));
    expect(all.schedules).toHaveLength(2_500);
    expect(all.truncated).toBe(false);
    expect(new Set(all.schedules.map((s) => s.key)).size).toBe(2_500);
    expect(all.schedules.at(-1)).toMatchObject({ key: 'tenant-02499', payload: { tenant: 2499 }, nextRunAt: '2026-01-06T03:00:00.000Z' });

    const some = expectSchedulesJson(JSON.parse((await cli(config, ['schedules', 'reports', '--json', '--limit', '1200'])).out));
    expect(some.schedules.map((s) => s.key)).toEqual(all.schedules.slice(0, 1200).map((s) => s.key));
    expect(some.truncated).toBe(true);
    const text = (await cli(config, ['schedules', 'reports'])).out.trimEnd().split('\n');
    expect(text).toHaveLength(2_502);
    expect(text.at(-1)).toBe('2500 runtime schedules of job "reports"');
    expect((await cli(config, ['schedules', 'reports', '--limit', '3'])).out).toContain(
      '3 runtime schedules shown (--limit 3); job "reports" has more',
    );
    expect((await cli(config, ['schedules', 'cache'])).out).toBe(
      'job "cache" has no runtime schedules; create one with: tickwork schedule set cache KEY --cron "0 6 * * *"\n',
    );
  });

  it('shows a stored schedule this Node cannot read instead of failing the listing', async () => {
    const { config: plain } = setup();
    await cli(plain, ['schedule', 'set', 'reports', 'fine', '--every', '1h']);
    await cli(plain, ['schedule', 'set', 'reports', 'odd', '--cron', '0 6 * * *', '--tz', 'Europe/Paris']);
    // Stores refuse a zone this Node does not know, but one written by a newer Node (newer tzdata)
    // or another version can still come back: the store hands "odd" back with such a zone.
    const config: TickworkConfig = {
      ...plain,
      store: () => {
        const store = createMemoryStore({ backend });
        opened.push(store);
        return {
          ...store,
          listSchedules: async (query) => {
            const page = await store.listSchedules(query);
            return { ...page, schedules: page.schedules.map((s) => (s.key === 'odd' ? { ...s, timezone: 'Atlantis/Capital' } : s)) };
          },
        };
      },
    };
    const json = expectSchedulesJson(JSON.parse((await cli(config, ['schedules', 'reports', '--json'])).out));
    expect(json.schedules.map((s) => [s.key, s.nextRunAt])).toEqual([
      ['fine', '2026-01-05T11:00:00.000Z'],
      ['odd', null],
    ]);
    expect(json.schedules[1]?.schedule).toMatch(/^unreadable: .*Atlantis\/Capital/);
  });
});

describe('list, logs and run with runtime schedules', () => {
  it('list shows one count per job and "runtime schedules only" for a job without its own schedule', async () => {
    const { config } = setup();
    await bulk(1_500, () => ({ schedule: every('1h') }));
    const json = expectListJson(JSON.parse((await cli(config, ['list', '--json'])).out));
    expect(json.jobs.map((j) => [j.code, j.schedule, j.runtimeSchedules])).toEqual([
      ['reports', null, 1_500],
      ['cache', 'every 5 minutes', 0],
    ]);
    const text = (await cli(config, ['list'])).out.trimEnd().split('\n');
    expect(text).toHaveLength(3);
    expect(text[1]).toMatch(/^reports\s+runtime schedules only\s+UTC\s+—\s+never\s+0\s+—\s+1500$/);
    const doctor = await cli(config, ['doctor', '--json']);
    expect(doctor.code).toBe(0);
  });

  it('pause of a job says its runtime schedules are not affected', async () => {
    const { config } = setup([
      { code: 'reports', schedule: every('1d'), run: () => undefined },
      { code: 'cache', schedule: every('5m'), run: () => undefined },
    ]);
    await cli(config, ['schedule', 'set', 'reports', 'acme', '--every', '1h']);
    expect((await cli(config, ['pause', 'reports'])).out).toContain(
      'its runtime schedules are not affected (`tickwork schedule pause reports KEY`)',
    );
    expect((await cli(config, ['pause', 'cache'])).out).not.toContain('runtime schedules');
  });

  it('run runs a due runtime schedule with its payload, records its key, and logs show and filter it', async () => {
    const { config, calls } = setup([
      {
        code: 'reports',
        schedule: every('1d'),
        run: (ctx) => void calls.push({ key: ctx.key, slot: ctx.slot.toISOString(), payload: ctx.payload }),
      },
    ]);
    await cli(
      config,
      ['schedule', 'set', 'reports', 'acme', '--cron', '0 10 * * *', '--payload', '{"tenant":"acme"}'],
      '2026-01-05T09:00:00Z',
    );
    await cli(
      config,
      ['schedule', 'set', 'reports', 'globex', '--cron', '0 11 * * *', '--payload', '{"tenant":"globex"}'],
      '2026-01-05T09:00:00Z',
    );

    const first = await cli(config, ['run'], '2026-01-05T10:00:05Z');
    expect(first.code).toBe(0);
    // A success of a runtime schedule is counted, not listed: `logs` has the run.
    expect(first.out).not.toMatch(/^reports\[/m);
    expect(first.out).toContain('reports: 2 runtime schedules: 1 not-due, 1 succeeded (tickwork logs reports)');
    expect(calls.filter((c) => c.key !== '')).toEqual([{ key: 'acme', slot: '2026-01-05T10:00:00.000Z', payload: { tenant: 'acme' } }]);

    await cli(config, ['run'], '2026-01-05T11:00:05Z');
    expect(calls.filter((c) => c.key !== '').map((c) => [c.key, c.payload])).toEqual([
      ['acme', { tenant: 'acme' }],
      ['globex', { tenant: 'globex' }],
    ]);
    await cli(config, ['run', 'reports', '--force'], '2026-01-05T11:30:00Z');
    const logs = expectLogsJson(JSON.parse((await cli(config, ['logs', 'reports', '--key', 'globex', '--json'])).out));
    expect(logs.runs.map((r) => [r.key, r.slotAt])).toEqual([['globex', '2026-01-05T11:00:00.000Z']]);
    const own = expectLogsJson(JSON.parse((await cli(config, ['logs', '--key', '', '--json'])).out));
    expect(own.runs.map((r) => r.key)).toEqual(['']);
    const text = (await cli(config, ['logs', 'reports'])).out;
    expect(text).toMatch(/reports\[acme\]\s+succeeded\s+2026-01-05 10:00:00Z/);
    expect(text).toMatch(/reports\[globex\]\s+succeeded\s+2026-01-05 11:00:00Z/);
    expect(text).toMatch(/\sreports\s+succeeded\s+2026-01-05 11:30:00Z/);
  });

  it('run with thousands of runtime schedules prints one count line per job, and --json has every result', async () => {
    const { config, calls } = setup();
    await bulk(2_000, (i) => ({ schedule: i % 500 === 0 ? '0 10 * * *' : '0 3 * * *', enabled: i % 700 !== 1 }));
    const result = await cli(config, ['run'], '2026-01-05T10:00:05Z');
    expect(result.code).toBe(0);
    expect(calls.map((c) => c.key)).toEqual(['tenant-00000', 'tenant-00500', 'tenant-01000', 'tenant-01500']);
    expect(result.out.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^JOB\s+OUTCOME/),
      expect.stringMatching(/^reports\s+not-due\s+runtime schedules only$/),
      expect.stringMatching(/^cache\s+/),
      'reports: 2,000 runtime schedules: 1,993 not-due, 4 succeeded, 3 disabled (tickwork logs reports)',
      'ok — 1,994 not-due, 3 disabled, 5 succeeded',
    ]);

    const json = expectRunReportJson(JSON.parse((await cli(config, ['run', '--json', '--dry-run'], '2026-01-05T10:00:06Z')).out));
    expect(json.results).toHaveLength(2_002);
    expect(json.results.filter((r) => r.key !== '' && r.outcome === 'not-due')).toHaveLength(1_997);
  });

  it('run lists at most 20 problem rows of runtime schedules and points at the rest; --silent and --json likewise', async () => {
    const { config } = setup([
      {
        code: 'reports',
        schedule: null,
        run: (ctx) => {
          if ((ctx.payload as { fail: boolean }).fail) throw new Error(`tenant ${ctx.key} has no mailbox`);
        },
      },
      { code: 'cache', schedule: every('5m'), run: () => undefined },
    ]);
    // 1,000 due every hour, of which every 40th fails (25); 500 not due.
    await bulk(1_500, (i) => ({ schedule: i < 1_000 ? '0 * * * *' : '0 3 * * *', payload: { fail: i < 1_000 && i % 40 === 0 } }));
    const result = await cli(config, ['run'], '2026-01-05T10:00:05Z');
    expect(result.code).toBe(1);
    const lines = result.out.trimEnd().split('\n');
    const failedRows = lines.filter((l) => /^reports\[tenant-\d+\]\s+failed\s+2026-01-05 10:00:00Z\s+1\s.*has no mailbox$/.test(l));
    expect(failedRows.map((l) => l.split(' ')[0])).toEqual(
      Array.from({ length: 20 }, (_, i) => `reports[tenant-${String(i * 40).padStart(5, '0')}]`),
    );
    expect(lines.filter((l) => l.startsWith('reports['))).toHaveLength(20);
    expect(lines.slice(-3)).toEqual([
      'reports: 1,500 runtime schedules: 975 succeeded, 500 not-due, 25 failed (tickwork logs reports)',
      '  … and 5 more: 5 failed (tickwork logs reports --status failed)',
      'FAILED — 501 not-due, 976 succeeded, 25 failed',
    ]);
    expect(lines.length).toBeLessThan(30);

    // --silent: only the failures, capped the same way.
    const silent = await cli(config, ['run', '--silent'], '2026-01-05T11:00:05Z');
    expect(silent.code).toBe(1);
    const silentLines = silent.out.trimEnd().split('\n');
    expect(silentLines.filter((l) => /^reports\[tenant-\d+\]\s+failed/.test(l))).toHaveLength(20);
    expect(silentLines.at(-1)).toBe('  … and 5 more: 5 failed (tickwork logs reports --status failed)');
    expect(silentLines).toHaveLength(22);

    const json = expectRunReportJson(JSON.parse((await cli(config, ['run', '--json'], '2026-01-05T12:00:05Z')).out));
    expect(json.results).toHaveLength(1_502);
    expect(json.results.filter((r) => r.outcome === 'failed')).toHaveLength(25);
    expect(json.results.filter((r) => r.key !== '' && r.outcome === 'succeeded')).toHaveLength(975);
  });

  it('run --dry-run lists what would run up to 20 runtime schedules and counts the rest', async () => {
    const { config } = setup();
    await bulk(300, (i) => ({ schedule: i < 250 ? '0 10 * * *' : '0 3 * * *' }));
    const dry = await cli(config, ['run', '--dry-run'], '2026-01-05T10:00:05Z');
    expect(dry.code).toBe(0);
    const lines = dry.out.trimEnd().split('\n');
    expect(lines.filter((l) => /^reports\[tenant-\d+\]\s+would-run\s+2026-01-05 10:00:00Z/.test(l))).toHaveLength(20);
    expect(lines.slice(-3)).toEqual([
      'reports: 300 runtime schedules: 250 would-run, 50 not-due (tickwork schedules reports)',
      '  … and 230 more: 230 would-run (tickwork run reports --dry-run --json)',
      'dry run: nothing was claimed or changed — 51 not-due, 251 would-run',
    ]);
  });
});

describe('run with maxConcurrentRuns in the config', () => {
  it('runs at most that many handlers at once, and the rest of the due schedules in later waves of the same tick', async () => {
    let active = 0;
    let most = 0;
    const { config } = setup(
      [
        {
          code: 'reports',
          schedule: null,
          run: async () => {
            active += 1;
            most = Math.max(most, active);
            // Yield to the event loop a few times so handlers started together overlap (no timers).
            for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
            active -= 1;
          },
        },
      ],
      { maxConcurrentRuns: 2 },
    );
    await bulk(10, () => ({ schedule: '0 10 * * *' }));
    const result = await cli(config, ['run', '--json'], '2026-01-05T10:00:05Z');
    expect(result.code).toBe(0);
    const report = expectRunReportJson(JSON.parse(result.out));
    expect(report.results.filter((r) => r.outcome === 'succeeded')).toHaveLength(10);
    expect(most).toBe(2);
  });
});
