import { systemClock } from '@tickwork/core';
import { attendanceSql, resolveEntityManager, type AttendanceDatabase } from './database.js';
import { AttendanceEventSchema, GroupSchema, type AttendanceEvent } from './entities.js';
import { EventClosedError, InvalidAttendanceInputError, NotFoundError } from './errors.js';
import type { ClockOption } from './groups.js';
import { requireId, requireInstant, requireName, requireObject } from './input.js';

/** What {@link createEvent} takes. */
export interface CreateEventInput {
  groupId: number;
  title: string;
  startsAt: Date | string;
  /** Minutes after the start during which a check-in counts as LATE; from start + failMinutes on, ABSENT. Integer ≥ 0. */
  failMinutes: number;
}

/** The longest grace period accepted (one week), so a typo cannot keep an event open for years. */
export const MAX_FAIL_MINUTES = 7 * 24 * 60;

/** Creates an event of a group; its attendance stays open until the mark-absent job closes it. */
export async function createEvent(
  database: AttendanceDatabase,
  input: CreateEventInput,
  options: ClockOption = {},
): Promise<AttendanceEvent> {
  requireObject(input, 'createEvent: input');
  if (input.groupId === undefined || input.groupId === null) {
    throw new InvalidAttendanceInputError('createEvent: groupId is required (an event belongs to the group whose members are expected)');
  }
  const groupId = requireId(input.groupId, 'createEvent: groupId');
  const title = requireName(input.title, 'createEvent: title');
  const startsAt = requireInstant(input.startsAt, 'createEvent: startsAt');
  const { failMinutes } = input;
  if (typeof failMinutes !== 'number' || !Number.isInteger(failMinutes) || failMinutes < 0 || failMinutes > MAX_FAIL_MINUTES) {
    throw new InvalidAttendanceInputError(
      `createEvent: failMinutes must be an integer from 0 to ${MAX_FAIL_MINUTES}, got ${String(failMinutes)}`,
    );
  }
  const em = await resolveEntityManager(database);
  const group = await em.findOne(GroupSchema, groupId);
  if (!group) throw new NotFoundError('group', groupId);
  const event = em.create(AttendanceEventSchema, {
    group,
    title,
    startsAt,
    failMinutes,
    attendanceClosedAt: null,
    createdAt: (options.clock ?? systemClock).now(),
  });
  await em.flush();
  return event;
}

/** The instant from which members without a check-in are ABSENT: `startsAt + failMinutes`. */
export function absenceDeadline(event: { startsAt: Date; failMinutes: number }): Date {
  return new Date(event.startsAt.getTime() + event.failMinutes * 60_000);
}

/**
 * Opens the roll call of an event: one UNCHECKED record for every member of its group who
 * joined by the absence deadline and has none yet (one statement). Optional — the job creates ABSENT records for members
 * without one anyway — but it lets an app list who is still expected. Returns the rows created.
 */
export async function openRollCall(database: AttendanceDatabase, input: { eventId: number }): Promise<number> {
  requireObject(input, 'openRollCall: input');
  const eventId = requireId(input.eventId, 'openRollCall: eventId');
  const sql = attendanceSql(await resolveEntityManager(database));
  const [event] = await sql.all<{ attendance_closed_at: unknown }>(`select attendance_closed_at from ${sql.table('event')} where id = ?`, [
    eventId,
  ]);
  if (!event) throw new NotFoundError('event', eventId);
  if (event.attendance_closed_at !== null && event.attendance_closed_at !== undefined) {
    throw new EventClosedError(`openRollCall: event ${eventId}'s attendance is already closed`);
  }
  const inserted = await sql.write(
    `insert into ${sql.table('record')} (event_id, member_id, status) ` +
      `select e.id, m.member_id, 'UNCHECKED' from ${sql.table('event')} e join ${sql.table('group_membership')} m on m.group_id = e.group_id ` +
      // Only members expected at the event: those who joined the group by its absence deadline.
      `where e.id = ? and e.attendance_closed_at is null and m.joined_at <= ${sql.deadline('e.starts_at', 'e.fail_minutes')} ` +
      `on conflict (event_id, member_id) do nothing`,
    [eventId],
  );
  return inserted.affectedRows;
}
