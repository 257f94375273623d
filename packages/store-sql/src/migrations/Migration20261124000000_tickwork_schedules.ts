/**
 * The second migration: runtime schedules (table, version counter, and on PostgreSQL the
 * schedule functions plus new versions of the claim, completion and reap functions).
 */
import { Migration } from '@mikro-orm/migrations';
import { initPostgres } from './init-postgres.js';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';
import { SCHEDULE_FUNCTIONS, schedulesPostgres } from './schedules-postgres.js';
import { schedulesSqlite } from './schedules-sqlite.js';

/** Builds the migration class adding runtime schedules for `target`. */
export function schedulesMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261124000000TickworkSchedules extends Migration {
    override up(): void {
      const statements = target.dialect === 'postgresql' ? schedulesPostgres(target.schema) : schedulesSqlite();
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
      if (target.dialect === 'postgresql') {
        for (const fn of SCHEDULE_FUNCTIONS) this.addSql(`DROP FUNCTION IF EXISTS ${s}${fn}`);
        // The first migration's claim, completion and reap functions, back in place of this one's.
        for (const sql of initPostgres(target.schema)) {
          if (/^CREATE FUNCTION \S+\.tickwork_(claim_slots|complete_runs|reap_expired)\(/.test(sql))
            this.addSql(sql.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'));
        }
      }
      for (const table of ['tickwork_schedule_counter', 'tickwork_schedule']) this.addSql(`DROP TABLE IF EXISTS ${s}${table}`);
    }
  } as unknown as typeof Migration;
}
