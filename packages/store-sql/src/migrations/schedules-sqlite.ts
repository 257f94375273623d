/**
 * DDL of the second migration on SQLite: runtime schedules and the counter row that hands
 * out their versions. Writers hold the file's write lock (`BEGIN IMMEDIATE`), so the
 * counter needs no lock of its own.
 */

/** Statements adding runtime schedules. */
export function schedulesSqlite(): string[] {
  return [
    // The definition is core's canonical JSON text, compared byte for byte by upserts.
    `CREATE TABLE tickwork_schedule (
      code TEXT NOT NULL,
      key TEXT NOT NULL CHECK (key <> ''),
      definition TEXT NOT NULL,
      enabled INTEGER NOT NULL,
      version INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (code, key)
    )`,
    // One row: the last version handed out and the removals so far (together, the schedules' revision).
    `CREATE TABLE tickwork_schedule_counter (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      last_version INTEGER NOT NULL,
      removals INTEGER NOT NULL
    )`,
    `INSERT INTO tickwork_schedule_counter (id, last_version, removals) VALUES (1, 0, 0)`,
  ];
}
