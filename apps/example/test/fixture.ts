import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { createFakeClock, createRegistry, type FakeClock, type JobRegistry } from '@tickwork/core';
import { createDashboard, createStoreAccess, type AccessStore, type Role } from '@tickwork/dashboard';
import type { FastifyInstance } from 'fastify';
import { createAppDatabase, type AppDatabase } from '../src/database.js';
import { buildHttpApi } from '../src/http/api.js';
import { seedDemoData, type SeededDemo } from '../src/seed.js';
import { readSettings } from '../src/settings.js';
import { openExampleStore, type ExampleStore } from '../src/store.js';
import { createTickworkConfig } from '../src/tickwork.js';
import { tempDir } from './support.js';

/** The seeded demo on its own temporary SQLite file, with the HTTP API built (not listening) on a fake clock. */
export interface ApiFixture {
  api: FastifyInstance;
  orm: MikroORM;
  database: AppDatabase;
  store: ExampleStore;
  clock: FakeClock;
  /** The example's jobs, as the runners get them. */
  jobs: JobRegistry;
  seeded: SeededDemo;
  /** The dashboard's tokens and audit log (it also guards `/jobs/...`). */
  access: AccessStore;
  /** Headers of an admin bearer token, for `/jobs/...` requests. */
  auth: { authorization: string };
  /** Headers of a bearer token with that role. */
  authAs(role: Role): Promise<{ authorization: string }>;
  /** Every row of every attendance table and pending run request, for "nothing was written" checks. */
  snapshot(): Promise<string>;
  dispose(): Promise<void>;
}

const TABLES = ['attendance_member', 'attendance_group', 'attendance_group_membership', 'attendance_event', 'attendance_record'];

/** Opens a fresh fixture; the clock starts at `start`. */
export async function openApiFixture(start = '2026-03-10T18:00:00Z'): Promise<ApiFixture> {
  const dir = tempDir('tickwork-example-api-');
  const settings = readSettings({ TICKWORK_SQLITE_FILE: join(dir.path, 'app.sqlite'), EXAMPLE_TIMEZONE: 'Europe/Paris' });
  const database = createAppDatabase(settings);
  const orm = await database.orm();
  const store = await openExampleStore(settings, database, { ownsDatabase: true });
  await store.migrate();
  const clock = createFakeClock(start);
  const seeded = (await seedDemoData(orm, clock)) as SeededDemo;
  const config = createTickworkConfig(settings, database, store);
  const jobs = createRegistry(config.jobs);
  const access = createStoreAccess(store);
  const dashboard = createDashboard({ store, jobs, clock, timezone: 'Europe/Paris' });
  const authAs = async (role: Role) => ({
    authorization: `Bearer ${(await access.createToken({ name: `${role}-test`, role, expiresAt: null, now: clock.now() })).secret}`,
  });
  const auth = await authAs('admin');
  const api = buildHttpApi({
    orm,
    store,
    jobs,
    clock,
    dashboard,
    health: async () => ({ ok: true }),
    metrics: null,
    logLevel: false,
  });
  await api.ready();
  return {
    api,
    orm,
    database,
    store,
    clock,
    jobs,
    seeded,
    access,
    auth,
    authAs,
    async snapshot() {
      const connection = orm.em.getConnection();
      const dump: Record<string, unknown> = {};
      for (const table of TABLES) dump[table] = await connection.execute(`select * from ${table} order by 1, 2`);
      dump.requests = await store.pendingRunRequests();
      dump.schedules = (await store.listSchedules({ limit: 1000 })).schedules;
      return JSON.stringify(dump);
    },
    async dispose() {
      await api.close();
      await dashboard.close();
      await store.close();
      dir.dispose();
    },
  };
}
