import { prefixed, TickworkError } from '@tickwork/core';

/** Base class of every error @tickwork/attendance throws on purpose. */
export class AttendanceError extends TickworkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(prefixed('attendance', message), options);
  }
}

/** An argument is missing or malformed (negative `failMinutes`, empty name, bad instant, …); nothing was written. */
export class InvalidAttendanceInputError extends AttendanceError {}

/** An id names no row of its table. */
export class NotFoundError extends AttendanceError {
  constructor(
    readonly entity: 'member' | 'group' | 'event',
    readonly id: unknown,
  ) {
    super(`${entity} ${JSON.stringify(id)} does not exist`);
  }
}

/** The member is not (or was not yet, at the check-in instant) in the event's group. */
export class NotInGroupError extends AttendanceError {}

/** The check-in came at or after `startsAt + failMinutes`: the absence rule owns the record from then on. */
export class CheckInTooLateError extends AttendanceError {}

/** The mark-absent job already closed the event's attendance; only an admin override may change it. */
export class EventClosedError extends AttendanceError {}

/** The ORM's driver is neither PostgreSQL nor SQLite. */
export class UnsupportedDatabaseError extends AttendanceError {}
