import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppDatabase } from '../src/database.js';
import { readSettings } from '../src/settings.js';
import { http, pollUntil, requireBuilt, spawnInApp, tempDir, type Spawned } from './support.js';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOW_TO_START = {
  postgres: `PostgreSQL at ${PG_URL} must be running (and its migrations not blocked by a stale lock — see the output below): pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`,
  redis: `Redis at ${REDIS_URL} must be running: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`,
};
const unique = `${process.pid}_${Date.now().toString(36)}`;

// The same start script, switched to a server store by environment variables only.
describe.each([
  { store: 'postgres' as const, env: { TICKWORK_STORE: 'postgres', TICKWORK_PG_URL: PG_URL, TICKWORK_PG_SCHEMA: `example_e2e_${unique}` } },
  {
    store: 'redis' as const,
    env: { TICKWORK_STORE: 'redis', TICKWORK_REDIS_URL: REDIS_URL, TICKWORK_REDIS_PREFIX: `example-e2e-${unique}` },
  },
])('npm start with TICKWORK_STORE=$store', ({ store, env: storeEnv }) => {
  const dir = tempDir('tickwork-example-store-');
  const env: Record<string, string> = {
    ...storeEnv,
    TICKWORK_SQLITE_FILE: join(dir.path, 'app.sqlite'),
    PORT: '0',
    EXAMPLE_MARK_ABSENT_EVERY: '1s',
  };
  let app: Spawned;
  let url: string;

  beforeAll(async () => {
    requireBuilt();
    app = spawnInApp(process.execPath, ['scripts/start.mjs'], env);
    try {
      url = (await app.waitFor(/HTTP API\s+(http:\/\/\S+)/, 90_000))[1] as string;
    } catch (error) {
      throw new Error(`${HOW_TO_START[store]}\n${(error as Error).message}`);
    }
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    if (store === 'postgres') {
      const database = createAppDatabase(readSettings(env));
      try {
        await (await database.orm()).em.getConnection().execute(`drop schema if exists "${env.TICKWORK_PG_SCHEMA}" cascade`);
      } finally {
        await database.close();
      }
    }
    dir.dispose();
  });

  it('marks the seeded absentees ABSENT, logs the run in that store, and stops cleanly on SIGINT', async () => {
    expect(app.output()).toContain(store === 'redis' ? `Redis ${REDIS_URL}` : `PostgreSQL ${PG_URL}`);
    const event = await pollUntil(
      async () => {
        const { body } = await http(`${url}/events/1`);
        return body.open ? undefined : body;
      },
      20_000,
      'event 1 to be closed',
    );
    expect(event.attendance.map((a: { status: string }) => a.status)).toEqual(['PRESENT', 'LATE', 'ABSENT', 'ABSENT']);
    const { body: runs } = await http(`${url}/jobs/attendance.mark-absent/runs?limit=1000`, {
      token: (await app.waitFor(/one-time admin token \(valid 24 h\): (\S+)/, 90_000))[1] as string,
    });
    expect(
      runs.filter((r: { message: string; status: string }) => r.status === 'succeeded' && r.message.startsWith('events closed: 1,')),
    ).toHaveLength(1);
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('stopped cleanly');
  });
});
