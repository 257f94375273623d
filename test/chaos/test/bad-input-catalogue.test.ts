import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createFakeClock,
  createMemoryStore,
  cron,
  dailyAt,
  defineConfig,
  DuplicateJobError,
  every,
  InvalidJobError,
  InvalidScheduleError,
  once,
  runDue,
  UnknownJobError,
  type JobDefinition,
  type Store,
} from '@tickwork/core';
import { createSqlStore } from '@tickwork/store-sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-process.js';
import { PACKAGE_URLS, snapshotStore, tempDir } from '../src/fixtures.js';

/**
 * The bad-input catalogue, part 1: job definitions, schedules and configs (core), and
 * `tickwork` invocations. Every case asserts the error class (or exit code), a message
 * naming the thing and the field, and that the store is unchanged afterwards.
 * Store states (corrupted Redis keys, missing SQL tables) are in bad-input-stores.test.ts.
 */

const NOW = '2026-03-02T10:00:30.000Z';
const noop = async () => undefined;
const good: JobDefinition = { code: 'good.job', schedule: every('1m'), run: noop };

type Def = Record<string, unknown>;
const job = (extra: Def): Def => ({ code: 'bad.job', schedule: every('5m'), run: noop, ...extra });

interface CoreCase {
  name: string;
  /** The broken definition, registered beside a valid job. */
  define: () => Def;
  error: new (...args: never[]) => Error;
  message: RegExp;
}

const CORE_CASES: CoreCase[] = [
  {
    name: 'cron minute out of range',
    define: () => job({ schedule: '61 * * * *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*schedule.*minute.*"61".*out of range 0-59/,
  },
  {
    name: 'cron with 4 fields',
    define: () => job({ schedule: '* * * *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job": schedule: cron "\* \* \* \*" has 4 fields; expected 5/,
  },
  {
    name: 'cron with 8 fields',
    define: () => job({ schedule: '0 0 0 * * * * *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*schedule.*field/i,
  },
  {
    name: 'cron that can never match (30 Feb)',
    define: () => job({ schedule: '0 0 30 2 *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*never/,
  },
  { name: 'cron @reboot', define: () => job({ schedule: '@reboot' }), error: InvalidScheduleError, message: /job "bad\.job".*@reboot/ },
  {
    name: 'cron step 0',
    define: () => job({ schedule: '*/0 * * * *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*minute.*step/i,
  },
  {
    name: 'cron reversed range',
    define: () => job({ schedule: '0 5-1 * * *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*hour.*5-1/,
  },
  {
    name: 'cron empty list item',
    define: () => job({ schedule: '1,,2 * * * *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*minute.*empty/i,
  },
  {
    name: 'cron unknown month name',
    define: () => job({ schedule: '0 0 1 FOO *' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*month.*FOO/i,
  },
  {
    name: 'cron day of week 8',
    define: () => job({ schedule: '0 0 * * 8' }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*day.of.week.*"8"/i,
  },
  { name: 'cron empty string', define: () => job({ schedule: '' }), error: InvalidScheduleError, message: /job "bad\.job".*schedule/ },
  {
    name: 'daily time 25:00',
    define: () => job({ schedule: dailyAt('25:00') }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*"25:00"/,
  },
  {
    name: 'daily time 12:60',
    define: () => job({ schedule: dailyAt('12:60') }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*"12:60"/,
  },
  {
    name: 'daily with no times',
    define: () => job({ schedule: { kind: 'daily', times: [] } }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*times/,
  },
  {
    name: 'daily month day 32',
    define: () => job({ schedule: dailyAt('06:00', { monthDays: [32] }) }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*monthDays.*32/,
  },
  {
    name: 'daily weekday 8 (builder)',
    define: () => job({ schedule: dailyAt('06:00', { weekdays: [8] }) }),
    error: InvalidScheduleError,
    message: /weekday 8 is out of range/,
  },
  {
    name: 'unknown timezone',
    define: () => job({ schedule: cron('0 9 * * *', { timezone: 'Mars/Olympus_Mons' }) }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*timezone.*Mars\/Olympus_Mons/,
  },
  {
    name: 'job timezone unknown',
    define: () => job({ schedule: '0 9 * * *', timezone: 'Europe/Atlantis' }),
    error: InvalidScheduleError,
    message: /bad\.job.*Europe\/Atlantis/,
  },
  {
    name: 'every 0 seconds',
    define: () => job({ schedule: { kind: 'every', everyMs: 0 } }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*everyMs.*0/,
  },
  {
    name: 'every with a unit-less nonsense string',
    define: () => job({ schedule: every('5 parsecs') }),
    error: InvalidScheduleError,
    message: /every\(\): interval.*5 parsecs/,
  },
  {
    name: 'every with a bad anchor',
    define: () => job({ schedule: { kind: 'every', everyMs: 1000, anchor: 'soon' } }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*anchor.*soon/,
  },
  {
    name: 'once at a non-date',
    define: () => job({ schedule: once('next tuesday') }),
    error: InvalidScheduleError,
    message: /once\(\): instant.*next tuesday/,
  },
  {
    name: 'unknown schedule kind',
    define: () => job({ schedule: { kind: 'weekly', day: 1 } }),
    error: InvalidScheduleError,
    message: /job "bad\.job".*kind "weekly"/,
  },
  {
    name: 'schedule missing',
    define: () => ({ code: 'bad.job', run: noop }),
    error: InvalidJobError,
    message: /job "bad\.job".*schedule.*required/,
  },
  { name: 'empty code', define: () => job({ code: '' }), error: InvalidJobError, message: /code must be a non-empty string/ },
  {
    name: 'code with whitespace',
    define: () => job({ code: 'bad job' }),
    error: InvalidJobError,
    message: /code "bad job" may hold only letters/,
  },
  {
    name: 'unknown option (typo of retryAfterFailure)',
    define: () => job({ retryAfterFailures: '5m' }),
    error: InvalidJobError,
    message: /job "bad\.job".*retryAfterFailures/,
  },
  { name: 'run is not a function', define: () => job({ run: 'noop' }), error: InvalidJobError, message: /job "bad\.job".*run.*function/ },
  {
    name: 'timeout not a duration',
    define: () => job({ timeout: 'ten minutes' }),
    error: InvalidJobError,
    message: /job "bad\.job".*timeout.*ten minutes/,
  },
  { name: 'negative lease TTL', define: () => job({ leaseTtl: -5 }), error: InvalidJobError, message: /job "bad\.job".*leaseTtl/ },
  {
    name: 'failuresBeforeAlert 0',
    define: () => job({ failuresBeforeAlert: 0 }),
    error: InvalidJobError,
    message: /job "bad\.job".*failuresBeforeAlert.*0/,
  },
  {
    name: 'expiresAt before startAt',
    define: () => job({ startAt: '2026-02-01T00:00:00Z', expiresAt: '2026-01-01T00:00:00Z' }),
    error: InvalidJobError,
    message: /job "bad\.job".*expiresAt.*after startAt/,
  },
  {
    name: 'startAt not an instant',
    define: () => job({ startAt: 'whenever' }),
    error: InvalidJobError,
    message: /job "bad\.job".*startAt.*whenever/,
  },
  {
    name: 'missedRunPolicy unknown',
    define: () => job({ missedRunPolicy: 'sometimes' }),
    error: InvalidJobError,
    message: /job "bad\.job".*missedRunPolicy.*sometimes/,
  },
  {
    name: 'allowParallelRuns not a boolean',
    define: () => job({ allowParallelRuns: 'yes' }),
    error: InvalidJobError,
    message: /job "bad\.job".*allowParallelRuns.*true or false/,
  },
  {
    name: 'onFailure not a function',
    define: () => job({ onFailure: 'mail me' }),
    error: InvalidJobError,
    message: /job "bad\.job".*onFailure.*function/,
  },
  { name: 'jitter not a duration', define: () => job({ jitter: 'a bit' }), error: InvalidJobError, message: /job "bad\.job".*jitter/ },
  {
    name: 'duplicate code',
    define: () => ({ ...good, run: noop }),
    error: DuplicateJobError,
    message: /job "good\.job": code is registered twice/,
  },
];

/** A memory store with one successful tick in it, so "unchanged" compares real data. */
async function seededMemoryStore(): Promise<Store> {
  const store = createMemoryStore();
  await runDue({ jobs: [good], store, clock: createFakeClock(NOW) });
  return store;
}

describe('bad job definitions and schedules are rejected before anything runs, and the store is unchanged', () => {
  for (const c of CORE_CASES) {
    it(`${c.name}: ${c.error.name}`, async () => {
      const store = await seededMemoryStore();
      const before = await snapshotStore(store);
      const clock = createFakeClock('2026-03-02T10:01:30.000Z');
      let thrown: unknown;
      try {
        await runDue({ jobs: [good, c.define() as unknown as JobDefinition], store, clock });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(c.error);
      expect((thrown as Error).message).toMatch(/^\[tickwork\] /);
      expect((thrown as Error).message).toMatch(c.message);
      expect(await snapshotStore(store)).toBe(before);
    });
  }

  it('an unknown job code named to runDue lists the known codes and runs nothing', async () => {
    const store = await seededMemoryStore();
    const before = await snapshotStore(store);
    const attempt = runDue({ jobs: [good], store, only: ['nope'], clock: createFakeClock('2026-03-02T10:01:30.000Z') });
    await expect(attempt).rejects.toBeInstanceOf(UnknownJobError);
    await expect(attempt).rejects.toThrow(/unknown job code "nope"; known codes: good\.job/);
    expect(await snapshotStore(store)).toBe(before);
  });
});

describe('bad configs are rejected by defineConfig naming the field', () => {
  const store = createMemoryStore();
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown option', { jobs: [], store, job: [] }, /config: "job" is not a known option/],
    ['jobs not an array', { jobs: good, store }, /config: jobs must be an array/],
    ['store missing', { jobs: [] }, /config: store is required/],
    ['maxConcurrentRuns 0', { jobs: [], store, maxConcurrentRuns: 0 }, /config: maxConcurrentRuns must be an integer ≥ 1, got 0/],
    ['unknown default timezone', { jobs: [], store, timezone: 'Moon/Tranquility' }, /config.*timezone.*Moon\/Tranquility/],
    ['retention not a duration', { jobs: [], store, retention: 'a month-ish' }, /config: retention.*a month-ish/],
  ];
  for (const [name, config, message] of cases) {
    it(`${name}`, () => {
      expect(() => defineConfig(config as never)).toThrow(message);
    });
  }
});

describe('tickwork CLI: bad invocations and configs exit non-zero with a clear message, and the SQLite store is unchanged', () => {
  let project: string;
  let dbFile: string;
  let snapshot: () => Promise<string>;
  let observer: Store;

  const writeConfig = (name: string, body: string) => writeFileSync(join(project, name), body);

  beforeAll(async () => {
    project = tempDir('cli');
    dbFile = join(project, 'tickwork.db');
    const storeExpr = `Object.assign(createSqlStore({ driver: 'sqlite', dbName: ${JSON.stringify(dbFile)} }), { migrate: () => migrate({ driver: 'sqlite', dbName: ${JSON.stringify(dbFile)} }) })`;
    const header = `import { defineConfig, every } from ${JSON.stringify(PACKAGE_URLS.core)};\nimport { createSqlStore, migrate } from ${JSON.stringify(PACKAGE_URLS.storeSql)};\n`;
    writeConfig(
      'tickwork.config.mjs',
      `${header}export default defineConfig({ store: () => ${storeExpr}, jobs: [{ code: 'good.job', schedule: every('1m'), run: async () => {} }] });\n`,
    );
    writeConfig('throws.mjs', `${header}throw new Error('DATABASE_URL is not set');\n`);
    writeConfig('syntax.mjs', `${header}export default defineConfig({ jobs: [ });\n`);
    writeConfig(
      'bad-cron.mjs',
      `${header}export default { store: () => ${storeExpr}, jobs: [{ code: 'report', schedule: '0 25 * * *', run: async () => {} }] };\n`,
    );
    writeConfig(
      'duplicate.mjs',
      `${header}export default { store: () => ${storeExpr}, jobs: [{ code: 'a', schedule: every('1m'), run: async () => {} }, { code: 'a', schedule: every('2m'), run: async () => {} }] };\n`,
    );
    writeConfig('no-default.mjs', `${header}export const config = { jobs: [] };\n`);
    writeConfig('unknown-option.mjs', `${header}export default { store: () => ${storeExpr}, jobs: [], retries: 3 };\n`);
    writeConfig(
      'unmigrated.mjs',
      `${header}export default { store: () => createSqlStore({ driver: 'sqlite', dbName: ${JSON.stringify(join(project, 'empty.db'))} }), jobs: [{ code: 'good.job', schedule: every('1m'), run: async () => {} }] };\n`,
    );
    const migrated = await runCli(['migrate'], { cwd: project });
    expect(migrated.code, migrated.stderr).toBe(0);
    const ran = await runCli(['run', '--force'], { cwd: project, env: { TICKWORK_NOW: NOW } });
    expect(ran.code, ran.stderr + ran.stdout).toBe(0);
    observer = createSqlStore({ driver: 'sqlite', dbName: dbFile });
    snapshot = () => snapshotStore(observer);
    expect(await snapshot()).toContain('good.job');
  });

  afterAll(async () => {
    await observer?.close();
  });

  const CLI_CASES: Array<{ name: string; args: string[]; cwd?: 'empty'; exit: number; output: RegExp }> = [
    { name: 'unknown command', args: ['frobnicate'], exit: 2, output: /frobnicate/ },
    { name: 'unknown flag on run', args: ['run', '--frobnicate'], exit: 2, output: /--frobnicate/ },
    { name: 'unknown job code', args: ['run', 'nope'], exit: 2, output: /unknown job code "nope"; known codes: good\.job/ },
    { name: 'no config file anywhere', args: ['run'], cwd: 'empty', exit: 2, output: /tickwork\.config/ },
    { name: '--config naming a missing file', args: ['run', '--config', 'missing.mjs'], exit: 2, output: /missing\.mjs/ },
    { name: 'config that throws while loading', args: ['run', '--config', 'throws.mjs'], exit: 2, output: /DATABASE_URL is not set/ },
    { name: 'config with a syntax error', args: ['run', '--config', 'syntax.mjs'], exit: 2, output: /syntax\.mjs/ },
    { name: 'config with an invalid cron', args: ['run', '--config', 'bad-cron.mjs'], exit: 2, output: /job "report".*hour.*"25"/ },
    {
      name: 'config with duplicate codes',
      args: ['run', '--config', 'duplicate.mjs'],
      exit: 2,
      output: /job "a": code is registered twice/,
    },
    { name: 'config without a default export', args: ['run', '--config', 'no-default.mjs'], exit: 2, output: /default/ },
    {
      name: 'config with an unknown option',
      args: ['run', '--config', 'unknown-option.mjs'],
      exit: 2,
      output: /"retries" is not a known option/,
    },
    { name: 'logs --since nonsense', args: ['logs', '--since', 'the-dawn-of-time'], exit: 2, output: /--since.*the-dawn-of-time/ },
    { name: 'logs --status unknown', args: ['logs', '--status', 'exploded'], exit: 2, output: /--status.*exploded/ },
    { name: 'prune --older-than nonsense', args: ['prune', '--older-than', 'forever'], exit: 2, output: /--older-than.*forever/ },
    { name: 'pause without a code', args: ['pause'], exit: 2, output: /code/ },
    { name: 'pause of an unknown code', args: ['pause', 'nope'], exit: 2, output: /unknown job code "nope"/ },
    { name: 'trigger of an unknown code', args: ['trigger', 'nope'], exit: 2, output: /unknown job code "nope"/ },
    {
      name: 'run against tables that were never migrated',
      args: ['run', '--config', 'unmigrated.mjs'],
      exit: 3,
      output: /\[store-sql\].*tables are missing.*empty\.db.*run `tickwork migrate`/,
    },
  ];

  for (const c of CLI_CASES) {
    it(`tickwork ${c.args.join(' ')} (${c.name}) exits ${c.exit}`, async () => {
      const before = await snapshot();
      const cwd = c.cwd === 'empty' ? tempDir('empty') : project;
      const result = await runCli(c.args, { cwd, env: { TICKWORK_NOW: '2026-03-02T10:05:30.000Z' } });
      expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(c.exit);
      expect(result.stdout + result.stderr).toMatch(c.output);
      expect(await snapshot()).toBe(before);
    });
  }
});
