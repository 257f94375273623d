/**
 * DDL of the third migration on SQLite (issue #15): the run table gains `waiting` runs,
 * `request_id` and `cancel_requested`, and its slot uniqueness leaves run-now runs out
 * (they are unique by request). SQLite cannot change a CHECK or a table constraint in
 * place, so the table is rebuilt: copied into a new one, with AUTOINCREMENT's high-water
 * mark carried over, so ids of pruned runs are still never handed out again.
 */

const TRIGGERS = `'schedule', 'retry', 'manual', 'force'`;
const STATUSES = `'waiting', 'running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped'`;
const OLD_COLUMNS =
  'id, code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms, lease_expires_at, message, error, stack';

/** Statements of the third migration. */
export function exactlyOnceSqlite(): string[] {
  return [
    `CREATE TABLE tickwork_run_v3 (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code TEXT NOT NULL,
      key TEXT NOT NULL,
      slot_at INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      trigger TEXT NOT NULL CHECK (trigger IN (${TRIGGERS})),
      status TEXT NOT NULL CHECK (status IN (${STATUSES})),
      runner_id TEXT NOT NULL,
      token INTEGER NOT NULL,
      request_id INTEGER,
      cancel_requested INTEGER NOT NULL DEFAULT 0,
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      duration_ms INTEGER,
      lease_expires_at INTEGER,
      message TEXT,
      error TEXT,
      stack TEXT
    )`,
    `INSERT INTO tickwork_run_v3 (${OLD_COLUMNS}) SELECT ${OLD_COLUMNS} FROM tickwork_run ORDER BY id`,
    `DELETE FROM sqlite_sequence WHERE name = 'tickwork_run_v3'`,
    `INSERT INTO sqlite_sequence (name, seq) SELECT 'tickwork_run_v3', seq FROM sqlite_sequence WHERE name = 'tickwork_run'`,
    `DROP TABLE tickwork_run`,
    `ALTER TABLE tickwork_run_v3 RENAME TO tickwork_run`,
    `CREATE UNIQUE INDEX tickwork_run_slot_unique ON tickwork_run (code, key, slot_at, attempt) WHERE request_id IS NULL`,
    `CREATE UNIQUE INDEX tickwork_run_request_unique ON tickwork_run (request_id) WHERE request_id IS NOT NULL`,
    `CREATE INDEX tickwork_run_started_idx ON tickwork_run (started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_schedule_started_idx ON tickwork_run (code, key, started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_running_idx ON tickwork_run (code, key) WHERE status = 'running'`,
    `CREATE INDEX tickwork_run_lease_idx ON tickwork_run (lease_expires_at) WHERE status = 'running'`,
    `CREATE INDEX tickwork_run_finished_idx ON tickwork_run (finished_at) WHERE status <> 'running'`,
    `CREATE INDEX tickwork_run_waiting_idx ON tickwork_run (code, key, slot_at, id) WHERE status = 'waiting'`,
    `ALTER TABLE tickwork_job_state ADD COLUMN waiting_slot_at INTEGER`,
  ];
}
