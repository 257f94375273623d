/**
 * Runtime schedules on SQLite: upsert and removal run inside one `BEGIN IMMEDIATE`
 * transaction each (the file's write lock makes them atomic across processes); this
 * mirrors `tickwork_upsert_schedules` / `tickwork_remove_schedules` of the PostgreSQL migration.
 */
import type { RuntimeSchedule, ScheduleRef } from '@tickwork/core';
import { partitionOf, type RuntimeScheduleInput } from '@tickwork/core/store';
import type { SqliteTx } from './connection/sqlite.js';
import { toSchedule, type Row } from './rows.js';
import type { CheckedScheduleQuery } from './validate.js';

const SCHEDULE = 'tickwork_schedule';
const COUNTER = 'tickwork_schedule_counter';
const STATE = 'tickwork_job_state';

// A fresh state, replacing any left under the ref; its token starts above the ref's earlier runs
// (a removed schedule's runs may still be running), so tokens keep increasing per schedule.
const FRESH_STATE = `INSERT INTO ${STATE} (code, key, token, created_at, updated_at)
  VALUES (?1, ?2, coalesce((SELECT max(token) FROM tickwork_run WHERE code = ?1 AND key = ?2), 0), ?3, ?3)
  ON CONFLICT (code, key) DO UPDATE SET paused = 0, paused_note = NULL, resumed_at = NULL, schedule_override = NULL,
    last_slot_at = NULL, last_status = NULL, last_finished_at = NULL, last_attempt = NULL, last_finished_slot_at = NULL,
    consecutive_failures = 0, failing_since = NULL, last_succeeded_at = NULL, ended_streak = 0, ended_streak_started_at = NULL,
    expect_success_within_ms = NULL, overdue_alerted_at = NULL, ended_overdue_alerted_at = NULL, total_runs = 0, scheduled_runs = 0, token = max(token, excluded.token), created_at = ?3, updated_at = ?3`;

/** Upserts a checked batch (see `Store.upsertSchedules`); returns the records in input order. */
export async function upsertInTx(
  tx: SqliteTx,
  inputs: readonly RuntimeScheduleInput[],
  definitions: readonly string[],
  now: number,
): Promise<RuntimeSchedule[]> {
  const [counter] = await tx.all<{ last_version: number }>(`SELECT last_version FROM ${COUNTER}`);
  const last = Number(counter!.last_version);
  let next = last;
  const out: RuntimeSchedule[] = [];
  for (const [i, input] of inputs.entries()) {
    const definition = definitions[i]!;
    const [existing] = await tx.all<Row>(`SELECT * FROM ${SCHEDULE} WHERE code = ?1 AND key = ?2`, [input.code, input.key]);
    if (existing && existing.definition === definition) {
      out.push(toSchedule(existing));
      continue;
    }
    next += 1;
    const enabled = input.enabled ? 1 : 0;
    const [row] = existing
      ? await tx.all<Row>(
          `UPDATE ${SCHEDULE} SET definition = ?3, enabled = ?4, version = ?5, updated_at = ?6 WHERE code = ?1 AND key = ?2 RETURNING *`,
          [input.code, input.key, definition, enabled, next, now],
        )
      : await tx.all<Row>(
          `INSERT INTO ${SCHEDULE} (code, key, definition, enabled, version, created_at, updated_at, part) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) RETURNING *`,
          [input.code, input.key, definition, enabled, next, now, partitionOf(input.code, input.key)],
        );
    if (!existing) {
      await tx.all(FRESH_STATE, [input.code, input.key, now]);
    } else if (existing.enabled === 0 && input.enabled) {
      // Enabling works like a resume: slots missed while disabled are not caught up.
      await tx.all(`UPDATE ${STATE} SET resumed_at = ?3, updated_at = ?3 WHERE code = ?1 AND key = ?2`, [input.code, input.key, now]);
    }
    out.push(toSchedule(row!));
  }
  if (next > last) await tx.all(`UPDATE ${COUNTER} SET last_version = ?1`, [next]);
  return out;
}

/** Removes schedules with their states, waiting runs and pending run requests (see `Store.removeSchedules`); returns the refs removed. */
export async function removeInTx(tx: SqliteTx, refs: readonly ScheduleRef[]): Promise<ScheduleRef[]> {
  const removed: ScheduleRef[] = [];
  for (const ref of refs) {
    const gone = await tx.all(`DELETE FROM ${SCHEDULE} WHERE code = ?1 AND key = ?2 RETURNING code`, [ref.code, ref.key]);
    if (gone.length === 0) continue;
    await tx.all(`DELETE FROM ${STATE} WHERE code = ?1 AND key = ?2`, [ref.code, ref.key]);
    await tx.all(`DELETE FROM tickwork_run WHERE code = ?1 AND key = ?2 AND status = 'waiting'`, [ref.code, ref.key]);
    await tx.all(`DELETE FROM tickwork_run_request WHERE code = ?1 AND key = ?2 AND consumed_at IS NULL`, [ref.code, ref.key]);
    removed.push(ref);
  }
  if (removed.length > 0) await tx.all(`UPDATE ${COUNTER} SET removals = removals + ?1`, [removed.length]);
  return removed;
}

/**
 * The statements and parameters of one schedule-list page, run one after the other until the page
 * is full (one without `partitions`). Each bound is written so that SQLite seeks its index to the
 * page's start instead of scanning past earlier pages: with `partitions`, the cursor's partition
 * after the cursor (a seek of the (part, code, key) index), then the later partitions from their
 * start (SQLite walks an IN list in order, so they come ordered by partition without a sort).
 */
export function listStatements(q: CheckedScheduleQuery): Array<{ sql: string; params: unknown[] }> {
  if (q.partitions === null) return [listStatement(q)];
  const statement = (where: (bind: (value: unknown) => string) => string[], order: string) => {
    const params: unknown[] = [q.limit + 1];
    const bind = (value: unknown) => `?${params.push(value)}`;
    const filter = [...where(bind), ...(q.code === null ? [] : [`code = ${bind(q.code)}`])].join(' AND ');
    return { sql: `SELECT * FROM ${SCHEDULE} WHERE ${filter} ORDER BY ${order} LIMIT ?1`, params };
  };
  const statements: Array<{ sql: string; params: unknown[] }> = [];
  const [first, ...later] = q.partitions;
  const after = q.after;
  if (after !== null && first !== undefined) {
    statements.push(statement((bind) => [`part = ${bind(first)}`, `(code, key) > (${bind(after.code)}, ${bind(after.key)})`], 'code, key'));
  }
  const rest = after === null ? q.partitions : later;
  if (rest.length > 0)
    statements.push(statement((bind) => [`part IN (SELECT value FROM json_each(${bind(JSON.stringify(rest))}))`], 'part, code, key'));
  return statements;
}

/** Whether any row lacks its partition (inserted by an older release): an indexed look-up. */
export const SQLITE_UNPARTED = `SELECT 1 AS found FROM ${SCHEDULE} WHERE part IS NULL LIMIT 1`;

/** The statement and parameters of one schedule-list page without `partitions`. */
function listStatement(q: CheckedScheduleQuery): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [q.limit + 1];
  const bind = (...values: unknown[]) => values.map((value) => `?${params.push(value)}`);
  if (q.code !== null) {
    where.push(`code = ${bind(q.code)}`);
    // Within one code the cursor bounds the key only (a cursor of another code is before it or past it).
    if (q.after !== null && q.after.code === q.code) where.push(`key > ${bind(q.after.key)}`);
    else if (q.after !== null && q.after.code > q.code) where.push('0 = 1');
  } else if (q.after !== null) {
    where.push(`(code, key) > (${bind(q.after.code, q.after.key).join(', ')})`);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM ${SCHEDULE} ${filter} ORDER BY code, key LIMIT ?1`, params };
}
