/**
 * DDL of the first migration on SQLite. Instants are INTEGER milliseconds since the
 * epoch (exact, sortable, cheap to compare); booleans are 0/1; JSON is TEXT.
 */

const RUN_STATUSES = `'running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped'`;
const TRIGGERS = `'schedule', 'retry', 'manual', 'force'`;

/** Statements creating version 1 of the schema. */
export function initSqlite(): string[] {
  return [
    `CREATE TABLE tickwork_job_state (
      code TEXT NOT NULL,
      key TEXT NOT NULL,
      paused INTEGER NOT NULL DEFAULT 0,
      paused_note TEXT,
      resumed_at INTEGER,
      schedule_override TEXT,
      last_slot_at INTEGER,
      last_status TEXT,
      last_finished_at INTEGER,
      last_attempt INTEGER,
      last_finished_slot_at INTEGER,
      consecutive_failures INTEGER NOT NULL DEFAULT 0,
      total_runs INTEGER NOT NULL DEFAULT 0,
      token INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (code, key)
    )`,
    // AUTOINCREMENT: ids are never reused after pruning, so an id names one run forever.
    `CREATE TABLE tickwork_run (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code TEXT NOT NULL,
      key TEXT NOT NULL,
      slot_at INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      trigger TEXT NOT NULL CHECK (trigger IN (${TRIGGERS})),
      status TEXT NOT NULL CHECK (status IN (${RUN_STATUSES})),
      runner_id TEXT NOT NULL,
      token INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      duration_ms INTEGER,
      lease_expires_at INTEGER,
      message TEXT,
      error TEXT,
      stack TEXT,
      CONSTRAINT tickwork_run_slot_unique UNIQUE (code, key, slot_at, attempt)
    )`,
    `CREATE INDEX tickwork_run_started_idx ON tickwork_run (started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_schedule_started_idx ON tickwork_run (code, key, started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_running_idx ON tickwork_run (code, key) WHERE status = 'running'`,
    `CREATE INDEX tickwork_run_lease_idx ON tickwork_run (lease_expires_at) WHERE status = 'running'`,
    `CREATE INDEX tickwork_run_finished_idx ON tickwork_run (finished_at) WHERE status <> 'running'`,
    `CREATE TABLE tickwork_run_request (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code TEXT NOT NULL,
      key TEXT NOT NULL,
      requested_at INTEGER NOT NULL,
      requested_by TEXT,
      consumed_at INTEGER
    )`,
    `CREATE INDEX tickwork_run_request_pending_idx ON tickwork_run_request (requested_at, id) WHERE consumed_at IS NULL`,
  ];
}
