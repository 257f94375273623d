import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, pgExec, type Backend, type TestProject } from './fixtures/project.js';
import { expectListJson, expectLogsJson, expectRunReportJson, expectScheduleSetJson, expectSchedulesJson } from './fixtures/json-shapes.js';

// Runtime schedules through the spawned bin (node dist/bin.js) on real stores: a temp SQLite
// file, and PostgreSQL in a schema of its own. Run `npx tsc -p tsconfig.build.json` first.
const JOBS = `[
  { code: 'reports', schedule: null, run: (ctx) => {
      appendFileSync(dir + '/calls.log', 'reports ' + ctx.key + ' ' + ctx.slot.toISOString() + ' ' + JSON.stringify(ctx.payload) + '\\n');
  } },
  { code: 'cache', schedule: every('5m'), run: record('cache') },
]`;

// Creates runtime schedules of "reports" through core's API, as a host application would.
const SEED = `
import config from './tickwork.config.mjs';
import { createScheduler } from ${JSON.stringify(new URL('../node_modules/@tickwork/core/dist/index.js', import.meta.url).href)};
import { resolveStore } from ${JSON.stringify(new URL('../node_modules/@tickwork/core/dist/entry/runner.js', import.meta.url).href)};
const [count, schedule] = process.argv.slice(2);
const store = await resolveStore(config.store);
const scheduler = createScheduler({ jobs: config.jobs, store, clock: { now: () => new Date('2026-01-05T09:00:00Z') } });
for (let start = 0; start < Number(count); start += 1000) {
  const batch = Array.from({ length: Math.min(1000, Number(count) - start) }, (_, j) => ({ key: 'bulk-' + String(start + j).padStart(5, '0'), schedule, payload: { n: start + j } }));
  await scheduler.schedules('reports').upsert(batch);
}
await store.close();
`;

const schema = `tw_cli_rs_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

describe.each<Backend>(['sqlite', 'postgresql'])('runtime schedules on %s (spawned bin)', (backend) => {
  let project: TestProject;

  /** What a schedule command could change: every schedule with its state, and the run log. */
  const snapshot = async () => ({
    schedules: expectSchedulesJson(
      JSON.parse((await project.run(['schedules', 'reports', '--json'], { now: '2026-01-05T10:00:00Z' })).stdout),
    ).schedules,
    runs: expectLogsJson(JSON.parse((await project.run(['logs', '--json', '--limit', '1000'])).stdout)).runs,
  });

  beforeAll(async () => {
    if (backend === 'postgresql') await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    project = createProject(backend, JOBS, { schema });
    const migrated = await project.run(['migrate']);
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
  });

  afterAll(async () => {
    project?.remove();
    if (backend === 'postgresql') await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it('set, schedules, pause, resume and rm round-trip through the store', async () => {
    const now = '2026-01-05T09:00:00Z';
    const created = await project.run(
      ['schedule', 'set', 'reports', 'acme', '--cron', '0 10 * * *', '--tz', 'Europe/Paris', '--payload', '{"tenant":"acme"}'],
      { now },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^created runtime schedule "acme" of job "reports" \(version \d+\)$/m);
    expect(created.stdout).toMatch(/next run\s+2026-01-06 09:00:00Z \(in 1 d\)/);
    const same = expectScheduleSetJson(
      JSON.parse(
        (
          await project.run(
            [
              'schedule',
              'set',
              'reports',
              'acme',
              '--cron',
              '0 10 * * *',
              '--tz',
              'Europe/Paris',
              '--payload',
              '{"tenant":"acme"}',
              '--json',
            ],
            { now },
          )
        ).stdout,
      ),
    );
    expect(same.change).toBe('unchanged');
    const globex = expectScheduleSetJson(
      JSON.parse(
        (
          await project.run(['schedule', 'set', 'reports', 'globex', '--every', '1h', '--payload', '{"tenant":"globex"}', '--json'], {
            now,
          })
        ).stdout,
      ),
    );
    expect(globex).toMatchObject({
      change: 'created',
      previousVersion: null,
      schedule: { key: 'globex', nextRunAt: '2026-01-05T10:00:00.000Z', payload: { tenant: 'globex' } },
    });

    expect((await project.run(['schedule', 'pause', 'reports', 'acme', '--note', 'contract ended'], { now })).code).toBe(0);
    let listed = expectSchedulesJson(JSON.parse((await project.run(['schedules', 'reports', '--json'], { now })).stdout));
    expect(listed.schedules.map((s) => [s.key, s.timezone, s.paused, s.pausedNote, s.nextRunAt])).toEqual([
      ['acme', 'Europe/Paris', true, 'contract ended', null],
      ['globex', 'UTC', false, null, '2026-01-05T10:00:00.000Z'],
    ]);
    const text = await project.run(['schedules', 'reports'], { now });
    expect(text.stdout).toMatch(
      /^acme\s+at 10:00 every day \(Europe\/Paris\)\s+Europe\/Paris\s+yes\s+paused: contract ended\s+—\s+never\s+\{"tenant":"acme"\}$/m,
    );
    const list = expectListJson(JSON.parse((await project.run(['list', '--json'], { now })).stdout));
    expect(list.jobs.map((j) => [j.code, j.schedule, j.runtimeSchedules])).toEqual([
      ['reports', null, 2],
      ['cache', 'every 5 minutes', 0],
    ]);

    expect((await project.run(['schedule', 'resume', 'reports', 'acme'], { now })).code).toBe(0);
    listed = expectSchedulesJson(JSON.parse((await project.run(['schedules', 'reports', '--json'], { now })).stdout));
    expect(listed.schedules.map((s) => [s.key, s.paused, s.nextRunAt])).toEqual([
      ['acme', false, '2026-01-06T09:00:00.000Z'],
      ['globex', false, '2026-01-05T10:00:00.000Z'],
    ]);

    const removed = await project.run(['schedule', 'rm', 'reports', 'acme'], { now });
    expect(removed.code).toBe(0);
    listed = expectSchedulesJson(JSON.parse((await project.run(['schedules', 'reports', '--json'], { now })).stdout));
    expect(listed.schedules.map((s) => s.key)).toEqual(['globex']);
  });

  it('tickwork run runs a due runtime schedule with its payload and records its key', async () => {
    const first = await project.run(['run', '--json'], { now: '2026-01-05T10:00:05Z' });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = expectRunReportJson(JSON.parse(first.stdout));
    expect(report.results.filter((r) => r.outcome === 'succeeded').map((r) => [r.code, r.key, r.slotAt])).toEqual([
      ['cache', '', '2026-01-05T10:00:00.000Z'],
      ['reports', 'globex', '2026-01-05T10:00:00.000Z'],
    ]);
    expect(project.calls()).toContain('reports globex 2026-01-05T10:00:00.000Z {"tenant":"globex"}');
    const again = await project.run(['run'], { now: '2026-01-05T10:01:00Z' });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('reports: 1 runtime schedule: 1 not-due (tickwork schedules reports)');
    expect(project.calls().filter((line) => line.startsWith('reports '))).toHaveLength(1);

    const logs = expectLogsJson(JSON.parse((await project.run(['logs', 'reports', '--key', 'globex', '--json'])).stdout));
    expect(logs.runs.map((r) => [r.code, r.key, r.slotAt, r.status])).toEqual([
      ['reports', 'globex', '2026-01-05T10:00:00.000Z', 'succeeded'],
    ]);
    expect((await project.run(['logs'])).stdout).toMatch(/reports\[globex\]\s+succeeded\s+2026-01-05 10:00:00Z/);
    const listed = expectSchedulesJson(
      JSON.parse((await project.run(['schedules', 'reports', '--json'], { now: '2026-01-05T10:01:00Z' })).stdout),
    );
    expect(listed.schedules[0]).toMatchObject({
      key: 'globex',
      lastStatus: 'succeeded',
      totalRuns: 1,
      nextRunAt: '2026-01-05T11:00:00.000Z',
    });

    // A run-now request for one runtime schedule: the next tick runs it with its payload.
    const triggered = await project.run(['trigger', 'reports', '--key', 'globex'], { now: '2026-01-05T10:02:00Z' });
    expect(triggered.code).toBe(0);
    const ran = expectRunReportJson(JSON.parse((await project.run(['run', 'reports', '--json'], { now: '2026-01-05T10:02:30Z' })).stdout));
    expect(ran.results.filter((r) => r.outcome === 'succeeded').map((r) => [r.key, r.slotAt])).toEqual([
      ['globex', '2026-01-05T10:02:00.000Z'],
    ]);
    expect(project.calls()).toContain('reports globex 2026-01-05T10:02:00.000Z {"tenant":"globex"}');
  });

  it.each<[string, string[], string]>([
    ['an invalid cron', ['schedule', 'set', 'reports', 'globex', '--cron', '61 * * * *'], 'minute field: "61" is out of range 0-59'],
    [
      'a nonexistent timezone',
      ['schedule', 'set', 'reports', 'globex', '--cron', '0 6 * * *', '--tz', 'Europe/Lutetia'],
      'timezone "Europe/Lutetia" is not a known IANA timezone',
    ],
    [
      'a payload that is not JSON',
      ['schedule', 'set', 'reports', 'globex', '--every', '1h', '--payload', 'tenant=globex'],
      '--payload is not JSON',
    ],
    ['a key with a brace', ['schedule', 'set', 'reports', '{globex}', '--every', '1h'], 'key "{globex}" must be 1 … 200 characters'],
    [
      'two schedule options',
      ['schedule', 'set', 'reports', 'globex', '--every', '1h', '--daily', '06:00'],
      'give exactly one of --cron, --every, --at, --daily',
    ],
    ['rm of a missing key', ['schedule', 'rm', 'reports', 'initech'], 'no runtime schedule with key "initech"; nothing removed'],
    ['pause of a missing key', ['schedule', 'pause', 'reports', 'initech'], 'pause: no runtime schedule with key "initech"'],
  ])('rejects %s with exit 2 and changes nothing', async (_name, args, message) => {
    const before = await snapshot();
    const result = await project.run(args, { now: '2026-01-05T10:00:00Z' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
    expect(await snapshot()).toEqual(before);
  });

  it('schedules pages through thousands of them and run prints one count line for the quiet ones', async () => {
    const seed = project.write('seed.mjs', SEED);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [seed, '2500', '0 3 * * *'], { cwd: project.dir, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`seed exited ${code}`))));
    });
    // About 1.2 MB through a pipe: the bin must let stdout drain before it exits.
    const all = expectSchedulesJson(
      JSON.parse((await project.run(['schedules', 'reports', '--json'], { now: '2026-01-05T10:05:00Z' })).stdout),
    );
    expect(all.schedules).toHaveLength(2_501);
    expect(all.schedules.filter((s) => s.key.startsWith('bulk-')).map((s) => s.payload)).toEqual(
      Array.from({ length: 2_500 }, (_, n) => ({ n })),
    );
    const limited = expectSchedulesJson(
      JSON.parse((await project.run(['schedules', 'reports', '--json', '--limit', '1001'], { now: '2026-01-05T10:05:00Z' })).stdout),
    );
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.schedules.map((s) => s.key)).toEqual(all.schedules.slice(0, 1001).map((s) => s.key));
    const list = expectListJson(JSON.parse((await project.run(['list', '--json'], { now: '2026-01-05T10:05:00Z' })).stdout));
    expect(list.jobs.find((j) => j.code === 'reports')?.runtimeSchedules).toBe(2_501);

    const tick = await project.run(['run'], { now: '2026-01-05T10:05:01Z' });
    expect(tick.code, tick.stderr).toBe(0);
    const lines = tick.stdout.trimEnd().split('\n');
    expect(lines).toContain('reports: 2,501 runtime schedules: 2,501 not-due (tickwork schedules reports)');
    expect(lines.length).toBeLessThan(8);
  });
});
