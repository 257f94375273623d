/**
 * The fifth migration (issue #19): runner presence — the runner table, and on PostgreSQL the
 * advisory-lock presence check and the reap of dead runners' runs. An expand migration.
 */
import { Migration } from '@mikro-orm/migrations';
import { runnersPostgres, runnersSqlite } from './runners-sql.js';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of the runner table for `target`. */
export function runnersMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261203000000TickworkRunners extends Migration {
    override up(): void {
      const statements = target.dialect === 'postgresql' ? runnersPostgres(target.schema) : runnersSqlite();
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      if (target.dialect === 'postgresql') {
        const s = `"${target.schema}"`;
        this.addSql(`DROP FUNCTION IF EXISTS ${s}.tickwork_reap_dead_runners(timestamptz, integer)`);
        this.addSql(`DROP FUNCTION IF EXISTS ${s}.tickwork_runner_connected(bigint)`);
        this.addSql(`DROP TABLE IF EXISTS ${s}.tickwork_runner`);
      } else this.addSql('DROP TABLE IF EXISTS tickwork_runner');
    }
  } as unknown as typeof Migration;
}
