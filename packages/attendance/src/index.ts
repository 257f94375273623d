export {
  AttendanceError,
  InvalidAttendanceInputError,
  NotFoundError,
  NotInGroupError,
  CheckInTooLateError,
  EventClosedError,
  UnsupportedDatabaseError,
} from './errors.js';
export {
  type AttendanceStatus,
  ATTENDANCE_STATUSES,
  type Member,
  type Group,
  type GroupMembership,
  type AttendanceEvent,
  type Attendance,
  MemberSchema,
  GroupSchema,
  GroupMembershipSchema,
  AttendanceEventSchema,
  AttendanceSchema,
  attendanceEntities,
} from './entities.js';
export { migrateAttendance, attendanceMigrations, ATTENDANCE_MIGRATIONS_TABLE } from './migrate.js';
export type { AttendanceDatabase, AttendanceDialect } from './database.js';
export { createMember, createGroup, addMember, type ClockOption } from './groups.js';
export { createEvent, openRollCall, absenceDeadline, MAX_FAIL_MINUTES, type CreateEventInput } from './events.js';
export { checkIn, markPresent, type AttendanceResult } from './check-in.js';
export { markAbsent, DEFAULT_BATCH_SIZE, type MarkAbsentOptions, type MarkAbsentCounts } from './mark-absent.js';
export { markAbsentJob, formatCounts, MARK_ABSENT_CODE, type MarkAbsentJobOptions } from './mark-absent-job.js';
