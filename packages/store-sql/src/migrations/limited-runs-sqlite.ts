/**
 * DDL of the fifth migration on SQLite (issue #18, limited runs): the state's
 * `scheduled_runs` counter. Claims and upserts are the store's own statements (see
 * `sqlite-claims.ts`, `sqlite-schedules.ts`). An expand: older releases never read it.
 */

/** Statements of the fifth migration. */
export function limitedRunsSqlite(): string[] {
  // Schedules older than this count from the upgrade (the run log may have been pruned).
  return ['ALTER TABLE tickwork_job_state ADD COLUMN scheduled_runs INTEGER NOT NULL DEFAULT 0'];
}
