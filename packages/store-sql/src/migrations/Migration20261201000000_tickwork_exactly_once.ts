/**
 * The third migration (issue #15, exactly once under faults): waiting runs, run-now
 * requests claimed by id, cancel requests, and new claim, reap and removal functions on
 * PostgreSQL; the rebuilt run table on SQLite.
 */
import { Migration } from '@mikro-orm/migrations';
import { PREFIX } from '../errors.js';
import { exactlyOncePostgres } from './exactly-once-postgres.js';
import { exactlyOnceSqlite } from './exactly-once-sqlite.js';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of the exactly-once schema for `target`. */
export function exactlyOnceMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261201000000TickworkExactlyOnce extends Migration {
    override up(): void {
      const statements = target.dialect === 'postgresql' ? exactlyOncePostgres(target.schema) : exactlyOnceSqlite();
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      // Not supported: waiting runs and request-named runs have no place in the previous schema, and the previous
      // claim function would read a run-now run as its slot's. Restore a backup taken before `tickwork migrate`.
      throw new Error(
        `${PREFIX} Migration20261201000000_tickwork_exactly_once cannot be reverted; restore a backup taken before migrating`,
      );
    }
  } as unknown as typeof Migration;
}
