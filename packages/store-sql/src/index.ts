/**
 * @tickwork/store-sql — the Tickwork store on PostgreSQL and SQLite. Importing it loads
 * neither MikroORM nor a database driver: those load on first use.
 */
export { createSqlStore, type SqlStore } from './store.js';
export type { SqlStoreOptions, PostgresConnectionOptions, SqliteConnectionOptions, OrmConnectionOptions } from './options.js';
export type { MigrateResult } from './migrate.js';
export { SqlStoreOptionsError } from './errors.js';
export { MIGRATION_NAMES } from './migrations/names.js';
import type { MigrateResult } from './migrate.js';
import type { SqlStoreOptions } from './options.js';

/** Applies this version's migrations (loads MikroORM on call; `tickwork migrate` uses it). */
export async function migrate(options: SqlStoreOptions): Promise<MigrateResult> {
  const { migrate: run } = await import('./migrate.js');
  return run(options);
}
