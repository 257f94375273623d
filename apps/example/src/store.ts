import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '@tickwork/core';
import type { SqlStoreOptions } from '@tickwork/store-sql';
import type { AppDatabase } from './database.js';
import type { ExampleSettings } from './settings.js';

/** The example's Tickwork store, with the `migrate()` hook `tickwork migrate` calls. */
export interface ExampleStore extends Store {
  /** Creates or upgrades the Tickwork tables (SQL stores) and the attendance tables; idempotent. */
  migrate(): Promise<{ applied: string[] }>;
}

/**
 * Opens the store TICKWORK_STORE names. The SQL store borrows the application's MikroORM
 * connections (one pool, one database); Redis keeps Tickwork's state apart from the SQL data.
 * With `ownsDatabase`, closing the store closes the database too (the CLI's case). With
 * `ownConnection` (the CLI's case too) the SQL store opens its own connection to the same
 * database instead, so a crontab tick with nothing to run never loads MikroORM: the ORM opens
 * only when a job (or `tickwork migrate`) uses it.
 */
export async function openExampleStore(
  settings: ExampleSettings,
  database: AppDatabase,
  options: { ownsDatabase: boolean; ownConnection?: boolean },
): Promise<ExampleStore> {
  let store: Store;
  let migrateStore: () => Promise<string[]>;
  if (settings.store === 'redis') {
    const { createRedisStore } = await import('@tickwork/store-redis');
    store = createRedisStore({ url: settings.redisUrl, prefix: settings.redisPrefix });
    migrateStore = async () => [];
  } else if (options.ownConnection) {
    const sql = await import('@tickwork/store-sql');
    if (settings.store === 'sqlite') mkdirSync(dirname(settings.sqliteFile), { recursive: true });
    const storeOptions: SqlStoreOptions =
      settings.store === 'postgres'
        ? { driver: 'postgresql', clientUrl: settings.pgUrl, schema: settings.pgSchema }
        : { driver: 'sqlite', dbName: settings.sqliteFile };
    store = sql.createSqlStore(storeOptions);
    migrateStore = async () => (await sql.migrate(storeOptions)).applied;
  } else {
    const orm = await database.orm();
    const sql = await import('@tickwork/store-sql');
    const storeOptions = settings.store === 'postgres' ? { orm, schema: settings.pgSchema } : { orm };
    store = sql.createSqlStore(storeOptions);
    migrateStore = async () => (await sql.migrate(storeOptions)).applied;
  }
  return {
    ...delegate(store),
    async migrate() {
      const orm = await database.orm();
      if (settings.database === 'postgres') {
        await orm.em.getConnection().execute(`create schema if not exists "${settings.pgSchema}"`);
      }
      const { migrateAttendance } = await import('@tickwork/attendance');
      const attendance = await migrateAttendance(orm);
      return { applied: [...(await migrateStore()), ...attendance] };
    },
    async close() {
      await store.close();
      if (options.ownsDatabase) await database.close();
    },
  };
}

// Every method of the contract, as a record so a method added to Store is a compile error here until listed.
const METHOD_SET: Record<Exclude<keyof Store, 'name' | 'capabilities' | 'close'>, true> = {
  ping: true, ensureStates: true, getStates: true, setPaused: true, setScheduleOverride: true, claimSlots: true,
  renewLeases: true, completeRuns: true, reapExpired: true, heartbeat: true, listRunners: true, queryRuns: true, getRun: true, pruneRuns: true, claimMaintenance: true,
  requestRun: true, pendingRunRequests: true, upsertSchedules: true, removeSchedules: true,
  getSchedules: true, listSchedules: true, schedulesRevision: true, subscribe: true,
  appendAudit: true, listAudit: true, pruneAudit: true, addAccessToken: true, getAccessToken: true, listAccessTokens: true, removeAccessToken: true,
};
const METHODS = Object.keys(METHOD_SET) as Array<keyof typeof METHOD_SET>;

// Methods bound to the real store, so class-based stores keep their private state.
function delegate(store: Store): Store {
  const bound: Record<string, unknown> = { name: store.name, capabilities: store.capabilities, close: () => store.close() };
  for (const method of METHODS) {
    const fn = store[method] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof fn === 'function') bound[method] = fn.bind(store);
  }
  return bound as unknown as Store;
}
