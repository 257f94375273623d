/**
 * DDL of the ninth migration on SQLite (issue #20): skipped ranges on the run table and the
 * last skip reason on the state (see the PostgreSQL version). Added columns only.
 */

/** Statements of the ninth migration. */
export function skippedSlotsSqlite(): string[] {
  return [
    `ALTER TABLE tickwork_run ADD COLUMN skip_reason TEXT`,
    `ALTER TABLE tickwork_run ADD COLUMN slot_count INTEGER NOT NULL DEFAULT 1`,
    `ALTER TABLE tickwork_run ADD COLUMN range_last_slot_at INTEGER`,
    `ALTER TABLE tickwork_job_state ADD COLUMN last_skip_reason TEXT`,
    `ALTER TABLE tickwork_job_state ADD COLUMN last_skipped_slot_at INTEGER`,
  ];
}
