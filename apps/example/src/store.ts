import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '@tickwork/core';
import { decorateStore } from '@tickwork/core/store';
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
    // Every operation of the contract bound to the real store (class-based stores keep their private state).
    ...decorateStore(store, {}),
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
