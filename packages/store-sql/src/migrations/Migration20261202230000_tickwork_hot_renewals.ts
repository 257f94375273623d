/**
 * The sixth migration (issue #19, lean hot path): lease renewals become HOT updates on
 * PostgreSQL. A renewal sets only `tickwork_run.lease_expires_at`; while an index covers that
 * column PostgreSQL must write a new entry into every index of the table for each renewal
 * (3,000 renewals: 0 HOT updates, 3,000 dead tuples, every index grown). Dropping the reaper's
 * `(lease_expires_at) WHERE status = 'running'` index leaves no index on the renewed column (the
 * reaper reads the running runs through `tickwork_run_running_idx`, a set as small as the runs in
 * flight), and a fillfactor of 70 leaves room on each page for the new row versions. An expand:
 * older releases run the same statements, only their plans change.
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of HOT renewals for `target`. */
export function hotRenewalsMigration(target: MigrationTarget): typeof Migration {
  const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
  return class Migration20261202230000TickworkHotRenewals extends Migration {
    override up(): void {
      this.addSql(`DROP INDEX IF EXISTS ${s}tickwork_run_lease_idx`);
      // Only pages written from now on keep the free space; existing ones gain it as renewals move rows.
      if (target.dialect === 'postgresql') this.addSql(`ALTER TABLE ${s}tickwork_run SET (fillfactor = 70)`);
    }

    override down(): void {
      this.addSql(`CREATE INDEX IF NOT EXISTS tickwork_run_lease_idx ON ${s}tickwork_run (lease_expires_at) WHERE status = 'running'`);
      if (target.dialect === 'postgresql') this.addSql(`ALTER TABLE ${s}tickwork_run RESET (fillfactor)`);
    }
  } as unknown as typeof Migration;
}
