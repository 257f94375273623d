/**
 * The startup check: one cheap query of the migrations table (not the Migrator), so a
 * store never runs against a schema it does not know.
 */
import { StoreSchemaError } from '@tickwork/core';
import { PREFIX } from './errors.js';
import { MIGRATION_NAMES } from './migrations/names.js';

/** Compares the applied migrations with the ones this version ships. */
export function checkAppliedMigrations(applied: readonly string[], where: string): void {
  const unknown = applied.filter((name) => !MIGRATION_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new StoreSchemaError(
      `${PREFIX} the Tickwork schema at ${where} is newer than this @tickwork/store-sql (unknown migrations: ${unknown.join(', ')}); upgrade @tickwork/store-sql on this host`,
    );
  }
  const missing = MIGRATION_NAMES.filter((name) => !applied.includes(name));
  if (missing.length > 0) {
    throw new StoreSchemaError(
      `${PREFIX} the Tickwork schema at ${where} is missing migrations (${missing.join(', ')}); run \`tickwork migrate\` (or call migrate() from @tickwork/store-sql)`,
    );
  }
}
