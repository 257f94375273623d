import type { EntityManager } from '@mikro-orm/core';
import { attendanceSql, resolveEntityManager, type AttendanceDatabase } from './database.js';
import { InvalidAttendanceInputError } from './errors.js';
import { requireInstant, requireObject } from './input.js';

/** Events closed per transaction unless told otherwise. */
export const DEFAULT_BATCH_SIZE = 500;

/** Options of {@link markAbsent}. */
export interface MarkAbsentOptions {
  /** The rule's "now": events with `startsAt + failMinutes ≤ now` are closed. The job passes its slot. */
  now: Date;
  /** Events closed per transaction (1 … 10,000). Default 500. */
  batchSize?: number;
  /** Checked between batches; each finished batch stays committed. */
  signal?: AbortSignal;
}

/** What one pass did. */
export interface MarkAbsentCounts {
  /** Events whose attendance this pass closed. */
  eventsClosed: number;
  /** UNCHECKED records set to ABSENT. */
  rowsUpdated: number;
  /** ABSENT records created for expected members who had none. */
  rowsInserted: number;
  /** Transactions that closed at least one event. */
  batches: number;
}

/** Checks a batch size: an integer from 1 to 10,000. */
export function checkBatchSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000) {
    throw new InvalidAttendanceInputError(`${what} must be an integer from 1 to 10000, got ${String(value)}`);
  }
  return value;
}

/**
 * Closes every open event whose absence deadline (`startsAt + failMinutes`) is at or before
 * `now`: in one transaction per batch of events it claims and closes the batch (skipping
 * events another runner holds, on PostgreSQL), sets their UNCHECKED records to ABSENT and
 * inserts ABSENT records for members who joined the group by the deadline and have none.
 * Three set-based statements per batch, whatever the number of members. Idempotent.
 */
export async function markAbsent(database: AttendanceDatabase, options: MarkAbsentOptions): Promise<MarkAbsentCounts> {
  requireObject(options, 'markAbsent: options');
  const now = requireInstant(options.now, 'markAbsent: now');
  const batchSize = checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE, 'markAbsent: batchSize');
  const em = await resolveEntityManager(database);
  const counts: MarkAbsentCounts = { eventsClosed: 0, rowsUpdated: 0, rowsInserted: 0, batches: 0 };
  for (;;) {
    options.signal?.throwIfAborted();
    const batch = await em.transactional((tem) => closeBatch(tem, now, batchSize));
    if (batch.eventsClosed === 0) return counts;
    counts.eventsClosed += batch.eventsClosed;
    counts.rowsUpdated += batch.rowsUpdated;
    counts.rowsInserted += batch.rowsInserted;
    counts.batches += 1;
    if (batch.eventsClosed < batchSize) return counts;
  }
}

async function closeBatch(em: EntityManager, now: Date, batchSize: number): Promise<Omit<MarkAbsentCounts, 'batches'>> {
  const sql = attendanceSql(em);
  const event = sql.table('event');
  const record = sql.table('record');
  const at = sql.instantParam;
  const instant = sql.instant(now);
  // The claim is the write that closes the batch, and it comes first: on SQLite it takes the
  // write lock at once (a second runner waits instead of failing to upgrade), on PostgreSQL
  // SKIP LOCKED hands concurrent runners disjoint batches. `starts_at <= now` is implied by
  // the deadline test but lets the partial index on open events bound the scan.
  const due =
    `select id from ${event} where attendance_closed_at is null and starts_at <= ${at} and ${sql.deadline('starts_at', 'fail_minutes')} <= ${at} ` +
    `order by starts_at, id limit ${batchSize}`;
  // PostgreSQL may re-run an `in (select … limit)` subquery per row; a materialized CTE
  // picks (and locks) the batch exactly once.
  const claimed = await sql.all<{ id: number }>(
    sql.dialect === 'postgresql'
      ? `with due as materialized (${due} for update skip locked) ` +
          `update ${event} set attendance_closed_at = ${at} from due where ${event}.id = due.id and ${event}.attendance_closed_at is null returning ${event}.id`
      : `update ${event} set attendance_closed_at = ${at} where id in (${due}) and attendance_closed_at is null returning id`,
    [instant, instant, instant],
  );
  if (claimed.length === 0) return { eventsClosed: 0, rowsUpdated: 0, rowsInserted: 0 };
  const ids = claimed.map((row) => Number(row.id));
  const updated = await sql.write(`update ${record} set status = 'ABSENT' where event_id in (?) and status = 'UNCHECKED'`, [ids]);
  const inserted = await sql.write(
    `insert into ${record} (event_id, member_id, status) ` +
      `select e.id, m.member_id, 'ABSENT' from ${event} e join ${sql.table('group_membership')} m on m.group_id = e.group_id ` +
      `where e.id in (?) and m.joined_at <= ${sql.deadline('e.starts_at', 'e.fail_minutes')} ` +
      `on conflict (event_id, member_id) do nothing`,
    [ids],
  );
  return { eventsClosed: ids.length, rowsUpdated: updated.affectedRows, rowsInserted: inserted.affectedRows };
}
