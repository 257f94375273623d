import { systemClock } from '@tickwork/core';
import { attendanceSql, resolveEntityManager, type AttendanceDatabase, type AttendanceSql } from './database.js';
import type { AttendanceStatus } from './entities.js';
import { CheckInTooLateError, EventClosedError, InvalidAttendanceInputError, NotFoundError, NotInGroupError } from './errors.js';
import { absenceDeadline } from './events.js';
import type { ClockOption } from './groups.js';
import { requireId, requireInstant, requireObject } from './input.js';

/** A member's attendance at an event after a check-in or an override. */
export interface AttendanceResult {
  eventId: number;
  memberId: number;
  status: AttendanceStatus;
  checkedAt: Date | null;
  overriddenAt: Date | null;
  /** False when the member had already checked in: the first check-in stands. */
  changed: boolean;
}

interface EventRow {
  group_id: number;
  starts_at: unknown;
  fail_minutes: number;
  attendance_closed_at: unknown;
}

/**
 * Records a member's check-in at `at` (default: now): PRESENT at or before the start, LATE
 * after it and before `startsAt + failMinutes`. From that instant on the absence rule owns the
 * record, so a check-in is rejected (CheckInTooLateError) — an admin may still use
 * {@link markPresent}. A second check-in keeps the first one.
 */
export async function checkIn(
  database: AttendanceDatabase,
  input: { eventId: number; memberId: number; at?: Date | string },
  options: ClockOption = {},
): Promise<AttendanceResult> {
  requireObject(input, 'checkIn: input');
  const eventId = requireId(input.eventId, 'checkIn: eventId');
  const memberId = requireId(input.memberId, 'checkIn: memberId');
  const at = input.at === undefined ? (options.clock ?? systemClock).now() : requireInstant(input.at, 'checkIn: at');
  const sql = attendanceSql(await resolveEntityManager(database));
  const { event, joinedAt } = await loadExpected(sql, eventId, memberId, 'checkIn');
  if (event.attendance_closed_at !== null && event.attendance_closed_at !== undefined) {
    throw new EventClosedError(
      `checkIn: event ${eventId}'s attendance was closed at ${sql.toDate(event.attendance_closed_at)?.toISOString()}; ask an admin to mark member ${memberId} present`,
    );
  }
  if (joinedAt.getTime() > at.getTime()) {
    throw new NotInGroupError(
      `checkIn: member ${memberId} joined group ${event.group_id} at ${joinedAt.toISOString()}, after the check-in instant ${at.toISOString()}`,
    );
  }
  const startsAt = sql.toDate(event.starts_at) as Date;
  const deadline = absenceDeadline({ startsAt, failMinutes: event.fail_minutes });
  if (at.getTime() >= deadline.getTime()) {
    throw new CheckInTooLateError(
      `checkIn: member ${memberId} checked in to event ${eventId} at ${at.toISOString()}, at or after its absence deadline ${deadline.toISOString()} (start + ${event.fail_minutes} min)`,
    );
  }
  const status: AttendanceStatus = at.getTime() <= startsAt.getTime() ? 'PRESENT' : 'LATE';
  // Only an UNCHECKED row may be filled in: a PRESENT/LATE one keeps its first check-in, and an
  // ABSENT one means the job closed the event between the read above and this write.
  const written = await sql.write(
    `insert into ${sql.table('record')} (event_id, member_id, status, checked_at) values (?, ?, ?, ${sql.instantParam})
     on conflict (event_id, member_id) do update set status = excluded.status, checked_at = excluded.checked_at
     where attendance_record.status = 'UNCHECKED'`,
    [eventId, memberId, status, sql.instant(at)],
  );
  const current = await readAttendance(sql, eventId, memberId);
  if (written.affectedRows > 0) return { ...current, changed: true };
  if (current.status === 'ABSENT' || current.status === 'UNCHECKED') {
    throw new EventClosedError(
      `checkIn: event ${eventId}'s attendance was closed while member ${memberId} checked in; ask an admin to mark them present`,
    );
  }
  return { ...current, changed: false };
}

/**
 * Admin override: sets the member's attendance to PRESENT (or LATE) whatever it was, also
 * after the event was closed — the way to correct an ABSENT. The job never touches a closed
 * event again, so the override stands. `checkedAt` defaults to now; `overriddenAt` is now.
 */
export async function markPresent(
  database: AttendanceDatabase,
  input: { eventId: number; memberId: number; status?: 'PRESENT' | 'LATE'; checkedAt?: Date | string },
  options: ClockOption = {},
): Promise<AttendanceResult> {
  requireObject(input, 'markPresent: input');
  const eventId = requireId(input.eventId, 'markPresent: eventId');
  const memberId = requireId(input.memberId, 'markPresent: memberId');
  const status = input.status ?? 'PRESENT';
  if (status !== 'PRESENT' && status !== 'LATE') {
    throw new InvalidAttendanceInputError(`markPresent: status must be 'PRESENT' or 'LATE', got ${JSON.stringify(input.status)}`);
  }
  const now = (options.clock ?? systemClock).now();
  const checkedAt = input.checkedAt === undefined ? now : requireInstant(input.checkedAt, 'markPresent: checkedAt');
  const sql = attendanceSql(await resolveEntityManager(database));
  await loadExpected(sql, eventId, memberId, 'markPresent');
  await sql.write(
    `insert into ${sql.table('record')} (event_id, member_id, status, checked_at, overridden_at) values (?, ?, ?, ${sql.instantParam}, ${sql.instantParam})
     on conflict (event_id, member_id) do update set status = excluded.status, checked_at = excluded.checked_at, overridden_at = excluded.overridden_at`,
    [eventId, memberId, status, sql.instant(checkedAt), sql.instant(now)],
  );
  return { ...(await readAttendance(sql, eventId, memberId)), changed: true };
}

async function loadExpected(
  sql: AttendanceSql,
  eventId: number,
  memberId: number,
  what: string,
): Promise<{ event: EventRow; joinedAt: Date }> {
  const [event] = await sql.all<EventRow>(
    `select group_id, starts_at, fail_minutes, attendance_closed_at from ${sql.table('event')} where id = ?`,
    [eventId],
  );
  if (!event) throw new NotFoundError('event', eventId);
  const [member] = await sql.all<{ id: number }>(`select id from ${sql.table('member')} where id = ?`, [memberId]);
  if (!member) throw new NotFoundError('member', memberId);
  const [membership] = await sql.all<{ joined_at: unknown }>(
    `select joined_at from ${sql.table('group_membership')} where group_id = ? and member_id = ?`,
    [event.group_id, memberId],
  );
  if (!membership) throw new NotInGroupError(`${what}: member ${memberId} is not in group ${event.group_id} of event ${eventId}`);
  return { event, joinedAt: sql.toDate(membership.joined_at) as Date };
}

async function readAttendance(sql: AttendanceSql, eventId: number, memberId: number): Promise<Omit<AttendanceResult, 'changed'>> {
  const [row] = await sql.all<{ status: AttendanceStatus; checked_at: unknown; overridden_at: unknown }>(
    `select status, checked_at, overridden_at from ${sql.table('record')} where event_id = ? and member_id = ?`,
    [eventId, memberId],
  );
  if (!row) throw new NotFoundError('event', eventId);
  return { eventId, memberId, status: row.status, checkedAt: sql.toDate(row.checked_at), overriddenAt: sql.toDate(row.overridden_at) };
}
