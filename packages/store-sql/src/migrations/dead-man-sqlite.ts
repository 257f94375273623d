/**
 * DDL of the dead-man migration on SQLite (issue #20; see the PostgreSQL version): the state's
 * streak, last-success and dead-man columns. Added columns only; the SQLite store writes them in
 * the same statement that finishes a run (`finishState`), which reads the old row on its right-hand sides.
 */

/** Statements of the dead-man migration. */
export function deadManSqlite(): string[] {
  return [
    `ALTER TABLE tickwork_job_state ADD COLUMN failing_since INTEGER`,
    `ALTER TABLE tickwork_job_state ADD COLUMN last_succeeded_at INTEGER`,
    `ALTER TABLE tickwork_job_state ADD COLUMN ended_streak INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE tickwork_job_state ADD COLUMN ended_streak_started_at INTEGER`,
    `ALTER TABLE tickwork_job_state ADD COLUMN expect_success_within_ms INTEGER`,
    `ALTER TABLE tickwork_job_state ADD COLUMN overdue_alerted_at INTEGER`,
    `ALTER TABLE tickwork_job_state ADD COLUMN ended_overdue_alerted_at INTEGER`,
  ];
}
