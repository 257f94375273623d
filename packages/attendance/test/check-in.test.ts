import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '@tickwork/core';
import {
  addMember,
  checkIn,
  CheckInTooLateError,
  createEvent,
  createGroup,
  createMember,
  EventClosedError,
  InvalidAttendanceInputError,
  markAbsent,
  markPresent,
  NotFoundError,
  NotInGroupError,
} from '../src/index.js';
import { DIALECTS, minutes, openDatabase, type Database } from './fixtures.js';

const START = new Date('2025-03-01T18:00:00.000Z');

describe.each(DIALECTS)('check-in on %s', (dialect) => {
  let db: Database;
  let groupId: number;
  let memberId: number;
  let eventId: number;
  const clock = createFakeClock('2025-03-01T12:00:00.000Z');

  beforeEach(async () => {
    db = await openDatabase(dialect);
    const em = db.orm.em.fork();
    groupId = (await createGroup(em, { name: 'Chess club' }, { clock })).id;
    memberId = (await createMember(em, { name: 'Ada' }, { clock })).id;
    await addMember(em, { groupId, memberId }, { clock });
    eventId = (await createEvent(em, { groupId, title: 'Tuesday practice', startsAt: START, failMinutes: 15 }, { clock })).id;
  });
  afterEach(async () => {
    await db.close();
  });

  it('records PRESENT for a check-in at or before the start', async () => {
    const result = await checkIn(db.orm, { eventId, memberId, at: START });
    expect(result).toMatchObject({ status: 'PRESENT', changed: true });
    expect(result.checkedAt?.toISOString()).toBe(START.toISOString());
    expect(await db.records(eventId)).toEqual([{ memberId, status: 'PRESENT', checkedAt: START }]);
  });

  it('records LATE after the start and before start + failMinutes', async () => {
    const at = new Date(START.getTime() + minutes(15) - 1);
    expect((await checkIn(db.orm, { eventId, memberId, at })).status).toBe('LATE');
  });

  it('rejects a check-in exactly at start + failMinutes as too late and writes nothing', async () => {
    const at = new Date(START.getTime() + minutes(15));
    await expect(checkIn(db.orm, { eventId, memberId, at })).rejects.toBeInstanceOf(CheckInTooLateError);
    await expect(checkIn(db.orm, { eventId, memberId, at })).rejects.toThrow(/^\[tickwork\] \[attendance\] checkIn: .*deadline/);
    expect(await db.records(eventId)).toEqual([]);
  });

  it('keeps the first check-in when the member checks in twice', async () => {
    await checkIn(db.orm, { eventId, memberId, at: new Date(START.getTime() - minutes(5)) });
    const second = await checkIn(db.orm, { eventId, memberId, at: new Date(START.getTime() + minutes(5)) });
    expect(second).toMatchObject({ status: 'PRESENT', changed: false });
    expect(await db.records(eventId)).toHaveLength(1);
  });

  it('rejects a member outside the event group, and unknown events and members, by type', async () => {
    const outsider = (await createMember(db.orm, { name: 'Bob' }, { clock })).id;
    await expect(checkIn(db.orm, { eventId, memberId: outsider, at: START })).rejects.toBeInstanceOf(NotInGroupError);
    await expect(checkIn(db.orm, { eventId: 999_999, memberId, at: START })).rejects.toBeInstanceOf(NotFoundError);
    await expect(checkIn(db.orm, { eventId, memberId: 999_999, at: START })).rejects.toThrow(/member 999999 does not exist/);
    expect(await db.records(eventId)).toEqual([]);
  });

  it('rejects a check-in before the member joined the group', async () => {
    const newcomer = (await createMember(db.orm, { name: 'Cy' }, { clock })).id;
    await addMember(db.orm, { groupId, memberId: newcomer, joinedAt: new Date(START.getTime() + minutes(10)) });
    await expect(checkIn(db.orm, { eventId, memberId: newcomer, at: START })).rejects.toBeInstanceOf(NotInGroupError);
    expect((await checkIn(db.orm, { eventId, memberId: newcomer, at: new Date(START.getTime() + minutes(11)) })).status).toBe('LATE');
  });

  it('rejects malformed ids and instants before touching the database', async () => {
    await expect(checkIn(db.orm, { eventId: -1, memberId, at: START })).rejects.toThrow(/checkIn: eventId must be a positive integer/);
    await expect(checkIn(db.orm, { eventId, memberId: Number.NaN, at: START })).rejects.toBeInstanceOf(InvalidAttendanceInputError);
    await expect(checkIn(db.orm, { eventId, memberId, at: 'yesterday' })).rejects.toThrow(/checkIn: at must be a valid instant/);
  });

  it('rejects a check-in after the job closed the event, but lets an admin turn ABSENT into PRESENT', async () => {
    await markAbsent(db.orm, { now: new Date(START.getTime() + minutes(20)) });
    expect(await db.records(eventId)).toMatchObject([{ memberId, status: 'ABSENT', checkedAt: null }]);
    await expect(checkIn(db.orm, { eventId, memberId, at: START })).rejects.toBeInstanceOf(EventClosedError);

    const admin = createFakeClock(START.getTime() + minutes(60));
    const result = await markPresent(db.orm, { eventId, memberId, checkedAt: START }, { clock: admin });
    expect(result).toMatchObject({ status: 'PRESENT', checkedAt: START, overriddenAt: admin.now() });
    // The closed event is never reopened by a later run.
    expect((await markAbsent(db.orm, { now: new Date(START.getTime() + minutes(90)) })).eventsClosed).toBe(0);
    expect(await db.records(eventId)).toMatchObject([{ memberId, status: 'PRESENT' }]);
  });

  it('refuses an override for a member outside the group', async () => {
    const outsider = (await createMember(db.orm, { name: 'Dee' }, { clock })).id;
    await expect(markPresent(db.orm, { eventId, memberId: outsider })).rejects.toBeInstanceOf(NotInGroupError);
    await expect(markPresent(db.orm, { eventId, memberId, status: 'ABSENT' as never })).rejects.toThrow(/markPresent: status/);
  });
});
