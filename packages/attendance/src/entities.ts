import { Collection, EntitySchema } from '@mikro-orm/core';

/** Attendance states: `UNCHECKED` (expected, not yet seen), `PRESENT`, `LATE`, `ABSENT`. */
export type AttendanceStatus = 'UNCHECKED' | 'PRESENT' | 'LATE' | 'ABSENT';

/** Every attendance status. */
export const ATTENDANCE_STATUSES: readonly AttendanceStatus[] = ['UNCHECKED', 'PRESENT', 'LATE', 'ABSENT'];

/** A person who can attend events. */
export interface Member {
  id: number;
  name: string;
  createdAt: Date;
}

/** A club, class or team whose members are expected at its events. */
export interface Group {
  id: number;
  name: string;
  createdAt: Date;
  memberships: Collection<GroupMembership>;
}

/** A member's place in a group since `joinedAt`. */
export interface GroupMembership {
  id: number;
  group: Group;
  member: Member;
  joinedAt: Date;
}

/** One event of a group; after `startsAt + failMinutes` members who did not check in are absent. */
export interface AttendanceEvent {
  id: number;
  group: Group;
  title: string;
  startsAt: Date;
  failMinutes: number;
  /** Set by the mark-absent job once it has marked the absentees; null while attendance is open. */
  attendanceClosedAt: Date | null;
  createdAt: Date;
}

/** One member's attendance at one event (unique per event + member). */
export interface Attendance {
  event: AttendanceEvent;
  member: Member;
  status: AttendanceStatus;
  /** When the member checked in (or an admin marked them present); null for UNCHECKED / ABSENT. */
  checkedAt: Date | null;
  /** When an admin override last set the status; null when the member or the job set it. */
  overriddenAt: Date | null;
}

// Table and column names are spelled out so a host's naming strategy cannot rename
// what the set-based SQL of the mark-absent job refers to.

/** Mapping of {@link Member}: table `attendance_member`. */
export const MemberSchema = new EntitySchema<Member>({
  name: 'AttendanceMember',
  tableName: 'attendance_member',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true, fieldName: 'id' },
    name: { type: 'string', length: 255, fieldName: 'name' },
    createdAt: { type: 'datetime', fieldName: 'created_at' },
  },
});

/** Mapping of {@link Group}: table `attendance_group`. */
export const GroupSchema = new EntitySchema<Group>({
  name: 'AttendanceGroup',
  tableName: 'attendance_group',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true, fieldName: 'id' },
    name: { type: 'string', length: 255, fieldName: 'name' },
    createdAt: { type: 'datetime', fieldName: 'created_at' },
    memberships: { kind: '1:m', entity: 'AttendanceGroupMembership', mappedBy: 'group' },
  },
});

/** Mapping of {@link GroupMembership}: table `attendance_group_membership`, unique per group + member. */
export const GroupMembershipSchema = new EntitySchema<GroupMembership>({
  name: 'AttendanceGroupMembership',
  tableName: 'attendance_group_membership',
  uniques: [{ name: 'attendance_group_membership_group_member_unique', properties: ['group', 'member'] }],
  indexes: [{ name: 'attendance_group_membership_member_index', properties: ['member'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true, fieldName: 'id' },
    group: { kind: 'm:1', entity: 'AttendanceGroup', fieldName: 'group_id', index: false },
    member: { kind: 'm:1', entity: 'AttendanceMember', fieldName: 'member_id', index: false },
    joinedAt: { type: 'datetime', fieldName: 'joined_at' },
  },
});

/** Mapping of {@link AttendanceEvent}: table `attendance_event`. */
export const AttendanceEventSchema = new EntitySchema<AttendanceEvent>({
  name: 'AttendanceEvent',
  tableName: 'attendance_event',
  checks: [{ name: 'attendance_event_fail_minutes_check', expression: 'fail_minutes >= 0' }],
  indexes: [
    { name: 'attendance_event_group_index', properties: ['group'] },
    // Open events by start: the mark-absent job's only read, so a run with nothing due
    // touches a handful of index entries however many closed events the history holds.
    {
      name: 'attendance_event_open_index',
      expression: (table, _columns, indexName) =>
        `create index "${indexName}" on ${table.schema ? `"${table.schema}".` : ''}"${table.name}" ("starts_at") where "attendance_closed_at" is null`,
    },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true, fieldName: 'id' },
    group: { kind: 'm:1', entity: 'AttendanceGroup', fieldName: 'group_id', index: false },
    title: { type: 'string', length: 255, fieldName: 'title' },
    startsAt: { type: 'datetime', fieldName: 'starts_at' },
    failMinutes: { type: 'integer', fieldName: 'fail_minutes' },
    attendanceClosedAt: { type: 'datetime', nullable: true, fieldName: 'attendance_closed_at' },
    createdAt: { type: 'datetime', fieldName: 'created_at' },
  },
});

/** Mapping of {@link Attendance}: table `attendance_record`, primary key (event, member). */
export const AttendanceSchema = new EntitySchema<Attendance>({
  name: 'Attendance',
  tableName: 'attendance_record',
  indexes: [{ name: 'attendance_record_member_index', properties: ['member'] }],
  properties: {
    // The primary key (event_id, member_id) already serves lookups by event.
    event: { kind: 'm:1', entity: 'AttendanceEvent', primary: true, fieldName: 'event_id', index: false },
    member: { kind: 'm:1', entity: 'AttendanceMember', primary: true, fieldName: 'member_id' },
    status: { enum: true, items: () => [...ATTENDANCE_STATUSES], fieldName: 'status' },
    checkedAt: { type: 'datetime', nullable: true, fieldName: 'checked_at' },
    overriddenAt: { type: 'datetime', nullable: true, fieldName: 'overridden_at' },
  },
});

/** Every attendance entity, for the host's `entities` option. */
export const attendanceEntities = [MemberSchema, GroupSchema, GroupMembershipSchema, AttendanceEventSchema, AttendanceSchema] as const;
