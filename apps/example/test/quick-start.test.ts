import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, http, pollUntil, requireBuilt, runInApp, spawnInApp, tempDir, type Spawned } from './support.js';

// Starts the example exactly as `npm start` does (node scripts/start.mjs in apps/example),
// on a temporary SQLite file, a free port, and a 1-second mark-absent interval.
describe('npm start (scripts/start.mjs) on SQLite', () => {
  const dir = tempDir('tickwork-example-e2e-');
  const env = {
    TICKWORK_STORE: 'sqlite',
    TICKWORK_SQLITE_FILE: join(dir.path, 'app.sqlite'),
    PORT: '0',
    EXAMPLE_MARK_ABSENT_EVERY: '1s',
    LOG_LEVEL: 'info',
  };
  let app: Spawned;
  let url: string;
  let token: string;

  beforeAll(async () => {
    requireBuilt();
    app = spawnInApp(process.execPath, ['scripts/start.mjs'], env);
    url = (await app.waitFor(/HTTP API\s+(http:\/\/\S+)/, 90_000))[1] as string;
    token = (await app.waitFor(/one-time admin token \(valid 24 h\): (\S+)/, 90_000))[1] as string;
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    dir.dispose();
  });

  it('prints the URLs and what to try', () => {
    const out = app.output();
    expect(out).toMatch(
      /migrated\s+Migration\d+_tickwork_init, Migration\d+_tickwork_schedules, Migration\d+_tickwork_exactly_once(, Migration\d+_tickwork_\w+)*, attendance-0001-initial/,
    );
    expect(out).toMatch(/seeded: event 1 started 20 min ago/);
    expect(out).toContain(`curl ${url}/events/1`);
    expect(out).toContain('tickwork logs');
    expect(out).toContain('tickwork list');
    expect(out).toContain(`dashboard  ${url}/dashboard/`);
  });

  it('serves the dashboard, and guards the management routes: 401 without the printed token, 200 with it', async () => {
    const page = await fetch(`${url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await http(`${url}/jobs`)).status).toBe(401);
    expect((await http(`${url}/jobs/app.hourly-report/trigger`, { method: 'POST', body: {} })).status).toBe(401);
    expect((await http(`${url}/jobs`, { token })).status).toBe(200);
    expect((await http(`${url}/dashboard/api/me`, { token })).body).toMatchObject({ role: 'admin' });
  });

  it("marks the past event's absentees ABSENT on the first mark-absent run and leaves the future event open", async () => {
    const event = await pollUntil(
      async () => {
        const { status, body } = await http(`${url}/events/1`);
        expect(status).toBe(200);
        return body.open ? undefined : body;
      },
      20_000,
      'event 1 to be closed by attendance.mark-absent',
    );
    const statuses = Object.fromEntries(event.attendance.map((a: { name: string; status: string }) => [a.name, a.status]));
    expect(statuses).toEqual({
      'Ada Lovelace': 'PRESENT',
      'Grace Hopper': 'LATE',
      'Linus Torvalds': 'ABSENT',
      'Margaret Hamilton': 'ABSENT',
    });
    expect(event.failMinutes).toBe(15);

    const future = await http(`${url}/events/2`);
    expect(future.body.open).toBe(true);
    expect(future.body.attendance.map((a: { status: string }) => a.status)).toEqual(['UNCHECKED', 'UNCHECKED', 'UNCHECKED', 'UNCHECKED']);
  });

  it('shows the run in the run log, through the API and through `tickwork logs`', async () => {
    const { status, body: runs } = await http(`${url}/jobs/attendance.mark-absent/runs?limit=1000`, { token });
    expect(status).toBe(200);
    const closing = runs.filter((run: { message: string }) => run.message === 'events closed: 1, rows updated: 2, rows inserted: 0');
    expect(closing).toHaveLength(1);
    expect(closing[0]).toMatchObject({ code: 'attendance.mark-absent', status: 'succeeded', attempt: 1, trigger: 'schedule' });

    // The CLI reads the same store from another process, as a user would.
    const cli = await runInApp(
      join(APP_DIR, 'node_modules', '.bin', 'tickwork'),
      ['logs', 'attendance.mark-absent', '--json', '--limit', '1000'],
      env,
    );
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const logged = JSON.parse(cli.stdout) as { runs: { id: string; status: string; message: string }[] };
    expect(logged.runs.find((run) => run.id === closing[0].id)).toMatchObject({ status: 'succeeded', message: closing[0].message });
  });

  it('accepts a check-in to the open event and refuses one to the closed event with 409, writing nothing', async () => {
    const ok = await http(`${url}/events/2/check-ins`, { method: 'POST', body: { memberId: 1 } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ eventId: 2, memberId: 1, status: 'PRESENT', changed: true });

    const before = await http(`${url}/events/1`);
    const late = await http(`${url}/events/1/check-ins`, { method: 'POST', body: { memberId: 3 } });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/^\[tickwork\] \[attendance\] checkIn: event 1's attendance was closed/);
    expect((await http(`${url}/events/1`)).body).toEqual(before.body);
  });

  it('reports healthy on /healthz and serves metrics', async () => {
    const health = await http(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, store: 'reachable' });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# (HELP|TYPE) /m);
  });

  it('shuts down cleanly on SIGINT (Ctrl-C)', async () => {
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('stopped cleanly');
    expect(app.output()).not.toMatch(/shutdown failed|could not start|Unhandled|\berror\b/i);
  });
});
