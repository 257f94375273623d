/**
 * The maintenance table (issue #19, retention without a daemon): one row per maintenance task
 * with the epoch milliseconds of its last won claim, so `tickwork run` processes agree on who
 * prunes each hour. An expand migration: older releases never read it.
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of the maintenance table for `target`. */
export function maintenanceMigration(target: MigrationTarget): typeof Migration {
  const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
  return class Migration20261203030000TickworkMaintenance extends Migration {
    override up(): void {
      this.addSql(`CREATE TABLE ${s}tickwork_maintenance (name VARCHAR(100) PRIMARY KEY, done_at_ms BIGINT NOT NULL)`);
    }

    override down(): void {
      this.addSql(`DROP TABLE IF EXISTS ${s}tickwork_maintenance`);
    }
  } as unknown as typeof Migration;
}
