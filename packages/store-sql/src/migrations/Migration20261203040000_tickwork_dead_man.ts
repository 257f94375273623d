/**
 * The dead-man migration (issue #20: `onRecovery` and dead-man alerts): the state's failure
 * streak start, last success, what the latest success ended, the dead-man window and the
 * overdue alert; on PostgreSQL the trigger that keeps them and `tickwork_claim_overdue`. An
 * expand: older releases ignore the columns, and no function they call changes.
 */
import { Migration } from '@mikro-orm/migrations';
import { DEAD_MAN_COLUMNS, DEAD_MAN_FUNCTIONS, deadManPostgres } from './dead-man-postgres.js';
import { deadManSqlite } from './dead-man-sqlite.js';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of the dead-man schema for `target`. */
export function deadManMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261203040000TickworkDeadMan extends Migration {
    override up(): void {
      const statements = target.dialect === 'postgresql' ? deadManPostgres(target.schema) : deadManSqlite();
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
      if (target.dialect === 'postgresql') {
        for (const fn of DEAD_MAN_FUNCTIONS) this.addSql(`DROP FUNCTION IF EXISTS ${s}${fn}`);
        this.addSql(`DROP TRIGGER IF EXISTS tickwork_state_finished ON ${s}tickwork_job_state`);
        this.addSql(`DROP FUNCTION IF EXISTS ${s}tickwork_state_finished()`);
        this.addSql(`DROP INDEX IF EXISTS ${s}tickwork_job_state_dead_man`);
      }
      for (const column of DEAD_MAN_COLUMNS) this.addSql(`ALTER TABLE ${s}tickwork_job_state DROP COLUMN ${column}`);
    }
  } as unknown as typeof Migration;
}
