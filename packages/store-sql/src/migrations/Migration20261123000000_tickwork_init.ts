/**
 * The first migration, as a MikroORM migration class. It is built per target because
 * the PostgreSQL schema name is chosen at runtime.
 */
import { Migration } from '@mikro-orm/migrations';
import { initPostgres } from './init-postgres.js';
import { initSqlite } from './init-sqlite.js';

/** Where a migration applies: the dialect and, on PostgreSQL, the schema. */
export interface MigrationTarget {
  dialect: 'postgresql' | 'sqlite';
  schema: string;
}

/** Builds the migration class of the initial schema for `target`. */
export function initMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261123000000TickworkInit extends Migration {
    override up(): void {
      const statements = target.dialect === 'postgresql' ? initPostgres(target.schema) : initSqlite();
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
      if (target.dialect === 'postgresql') {
        for (const fn of [
          'tickwork_claim_slots(jsonb, text, timestamptz)',
          'tickwork_complete_runs(jsonb)',
          'tickwork_reap_expired(timestamptz, integer)',
          'tickwork_finish_state(text, text, text, timestamptz, integer, timestamptz)',
        ]) {
          this.addSql(`DROP FUNCTION IF EXISTS ${s}${fn}`);
        }
      }
      for (const table of ['tickwork_run_request', 'tickwork_run', 'tickwork_job_state']) this.addSql(`DROP TABLE IF EXISTS ${s}${table}`);
    }
  } as unknown as typeof Migration;
}
