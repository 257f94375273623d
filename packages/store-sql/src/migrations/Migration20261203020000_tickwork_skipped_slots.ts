/**
 * The ninth migration (issue #20, a reason for every slot not run): skipped ranges and skip
 * reasons on the run table, the last skip reason on the state, and on PostgreSQL the claim
 * function that records a claim's passed slots. An expand: older releases ignore the new
 * columns and keep calling the exactly-once claim function, which is unchanged.
 */
import { Migration } from '@mikro-orm/migrations';
import { skippedSlotsPostgres } from './skipped-slots-postgres.js';
import { skippedSlotsSqlite } from './skipped-slots-sqlite.js';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of the skipped-slots schema for `target`. */
export function skippedSlotsMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261203020000TickworkSkippedSlots extends Migration {
    override up(): void {
      const statements = target.dialect === 'postgresql' ? skippedSlotsPostgres(target.schema) : skippedSlotsSqlite();
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
      if (target.dialect === 'postgresql') this.addSql(`DROP FUNCTION IF EXISTS ${s}tickwork_claim_slots_passed(jsonb, text, timestamptz)`);
      // Range rows (attempt 0) mean nothing to the previous schema's readers beyond a skipped run; they stay.
      for (const column of ['skip_reason', 'slot_count', 'range_last_slot_at'])
        this.addSql(`ALTER TABLE ${s}tickwork_run DROP COLUMN ${column}`);
      for (const column of ['last_skip_reason', 'last_skipped_slot_at'])
        this.addSql(`ALTER TABLE ${s}tickwork_job_state DROP COLUMN ${column}`);
    }
  } as unknown as typeof Migration;
}
