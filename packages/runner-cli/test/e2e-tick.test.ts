import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, pgExec, until, type Backend, type TestProject } from './fixtures/project.js';
import { expectListJson, expectLogsJson, expectRunReportJson } from './fixtures/json-shapes.js';

// Spawns the built bin (node dist/bin.js) against a real store: a temp SQLite file, and
// PostgreSQL in a schema of its own. Run `npx tsc -p tsconfig.build.json` first.
const JOBS = `[
  { code: 'report', schedule: every('5m'), run: record('report') },
  { code: 'hourly', schedule: cron('0 * * * *'), run: record('hourly') },
  { code: 'broken', schedule: every('5m'), enabled: process.env.WITH_BROKEN === '1', run: () => { throw new Error('disk full'); } },
  { code: 'long', schedule: every('1d'), run: async ({ signal }) => {
      writeFileSync(dir + '/long.started', '');
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  } },
  ${Array.from({ length: 6 }, (_, i) => `{ code: 'burst-${i}', schedule: every('1m'), run: record('burst-${i}') }`).join(',\n  ')},
]`;

const schema = `tw_cli_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

describe.each<Backend>(['sqlite', 'postgresql'])('tickwork run on %s (spawned bin)', (backend) => {
  let project: TestProject;

  beforeAll(async () => {
    if (backend === 'postgresql') await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    project = createProject(backend, JOBS, { schema });
    const migrated = await project.run(['migrate']);
    expect(migrated.stderr).toBe('');
    expect(migrated.stdout).toContain(`migrated the ${backend} store: applied`);
    expect(migrated.code).toBe(0);
  });

  afterAll(async () => {
    project?.remove();
    if (backend === 'postgresql') await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it('--dry-run reports the due slots and changes nothing in the store', async () => {
    const dry = await project.run(['run', 'report', 'hourly', '--dry-run', '--json'], { now: '2026-01-05T10:00:05Z' });
    expect(dry.code).toBe(0);
    const report = expectRunReportJson(JSON.parse(dry.stdout));
    expect(report.results.map((r) => [r.code, r.outcome, r.slotAt])).toEqual([
      ['report', 'would-run', '2026-01-05T10:00:00.000Z'],
      ['hourly', 'would-run', '2026-01-05T10:00:00.000Z'],
    ]);
    expect(project.calls()).toEqual([]);
    const logs = expectLogsJson(JSON.parse((await project.run(['logs', '--json'])).stdout));
    expect(logs.runs).toEqual([]);
    const list = expectListJson(JSON.parse((await project.run(['list', '--json'], { now: '2026-01-05T10:00:05Z' })).stdout));
    expect(list.jobs.every((j) => j.lastRunAt === null && j.totalRuns === 0)).toBe(true);
  });

  it('runs each due slot once across two consecutive ticks, and the next slot when it comes', async () => {
    const first = await project.run(['run', 'report', 'hourly', '--json'], { now: '2026-01-05T10:00:05Z' });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = expectRunReportJson(JSON.parse(first.stdout));
    expect(report.results.map((r) => [r.code, r.outcome])).toEqual([
      ['report', 'succeeded'],
      ['hourly', 'succeeded'],
    ]);
    const second = await project.run(['run', 'report', 'hourly'], { now: '2026-01-05T10:01:00Z' });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/report\s+not-due/);
    expect(second.stdout).toMatch(/hourly\s+not-due/);
    const third = await project.run(['run', 'report', 'hourly'], { now: '2026-01-05T10:05:01Z' });
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/report\s+succeeded\s+2026-01-05 10:05:00Z/);
    expect(project.calls()).toEqual([
      'report 2026-01-05T10:00:00.000Z',
      'hourly 2026-01-05T10:00:00.000Z',
      'report 2026-01-05T10:05:00.000Z',
    ]);
  });

  it('two processes started at the same moment run each due slot once', async () => {
    const before = project.calls().length;
    const now = '2026-01-05T10:07:00Z';
    const codes = Array.from({ length: 6 }, (_, i) => `burst-${i}`);
    const [a, b] = await Promise.all([
      project.run(['run', ...codes, '--json'], { now }),
      project.run(['run', ...codes, '--json'], { now }),
    ]);
    expect([a.code, b.code], `${a.stdout}${a.stderr}${b.stdout}${b.stderr}`).toEqual([0, 0]);
    const calls = project.calls().slice(before).sort();
    expect(calls).toEqual(codes.map((code) => `${code} 2026-01-05T10:07:00.000Z`));
    const outcomes = [a, b].flatMap((r) => expectRunReportJson(JSON.parse(r.stdout)).results.map((x) => x.outcome));
    expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(6);
    expect(outcomes.filter((o) => o !== 'succeeded').every((o) => o === 'taken' || o === 'not-due')).toBe(true);
  });

  it('exits 1 when a job fails, with the error in the output and the run log', async () => {
    const result = await project.run(['run', 'broken'], { now: '2026-01-05T10:10:01Z', env: { WITH_BROKEN: '1' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/broken\s+failed.*disk full/);
    const logs = expectLogsJson(JSON.parse((await project.run(['logs', 'broken', '--json'], { env: { WITH_BROKEN: '1' } })).stdout));
    expect(logs.runs.map((r) => [r.status, r.error])).toEqual([['failed', 'disk full']]);
  });

  it('exits 2 on an unknown job code and lists the known ones', async () => {
    const result = await project.run(['run', 'reprot']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('unknown job code "reprot"; known codes: report, hourly, broken, long, burst-0');
  });

  it('pause, resume and trigger round-trip through the store and show in list', async () => {
    const now = '2026-01-05T10:20:00Z';
    expect((await project.run(['pause', 'report', '--note', 'vendor outage'], { now })).code).toBe(0);
    let listed = expectListJson(JSON.parse((await project.run(['list', '--json'], { now })).stdout));
    expect(listed.jobs.find((j) => j.code === 'report')).toMatchObject({ paused: true, pausedNote: 'vendor outage', nextRunAt: null });
    const text = await project.run(['list'], { now });
    expect(text.stdout).toMatch(/^report\s+every 5 minutes\s+UTC\s+—\s+.*paused: vendor outage\s+0\s+—\s+0$/m);

    expect((await project.run(['resume', 'report'], { now })).code).toBe(0);
    listed = expectListJson(JSON.parse((await project.run(['list', '--json'], { now })).stdout));
    expect(listed.jobs.find((j) => j.code === 'report')).toMatchObject({
      paused: false,
      pausedNote: null,
      nextRunAt: '2026-01-05T10:25:00.000Z',
    });

    const triggered = await project.run(['trigger', 'hourly'], { now });
    expect(triggered.code).toBe(0);
    expect(triggered.stdout).toContain('tickwork run hourly --force');
    const before = project.calls().length;
    const ran = await project.run(['run', 'hourly', '--json'], { now: '2026-01-05T10:20:10Z' });
    expect(expectRunReportJson(JSON.parse(ran.stdout)).results.map((r) => [r.outcome, r.slotAt])).toEqual([
      ['succeeded', '2026-01-05T10:20:00.000Z'],
    ]);
    expect(project.calls().slice(before)).toEqual(['hourly 2026-01-05T10:20:00.000Z']);
    listed = expectListJson(JSON.parse((await project.run(['list', '--json'], { now: '2026-01-05T10:20:30Z' })).stdout));
    expect(listed.jobs.find((j) => j.code === 'hourly')?.lastRunAt).toBe('2026-01-05T10:20:10.000Z');
  });

  it('SIGINT during a run records it interrupted and exits 130', async () => {
    const { child, result } = project.start(['run', 'long', '--force'], { now: '2026-01-05T10:30:00Z' });
    await until(() => existsSync(join(project.dir, 'long.started')), 'the long job to start');
    child.kill('SIGINT');
    const done = await result;
    expect(done.code).toBe(130);
    expect(done.stderr).toContain('SIGINT: interrupting running jobs');
    expect(done.stdout).toMatch(/long\s+interrupted/);
    const logs = expectLogsJson(JSON.parse((await project.run(['logs', 'long', '--json'])).stdout));
    expect(logs.runs.map((r) => [r.status, r.error])).toEqual([['interrupted', 'interrupted by runner shutdown']]);
  });
});
