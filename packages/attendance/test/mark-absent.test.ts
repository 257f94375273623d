import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/core';
import { createFakeClock } from '@tickwork/core';
import {
  addMember,
  checkIn,
  createEvent,
  createGroup,
  createMember,
  InvalidAttendanceInputError,
  markAbsent,
  markPresent,
  NotFoundError,
  openRollCall,
} from '../src/index.js';
import { DIALECTS, minutes, openDatabase, type Database } from './fixtures.js';

const START = new Date('2025-03-01T18:00:00.000Z');
const clock = createFakeClock('2025-03-01T12:00:00.000Z');
const at = (offsetMinutes: number) => new Date(START.getTime() + minutes(offsetMinutes));

async function seedGroup(orm: MikroORM, size: number, joinedAt = at(-600)) {
  const em = orm.em.fork();
  const groupId = (await createGroup(em, { name: `Group of ${size}` }, { clock })).id;
  const memberIds: number[] = [];
  for (let i = 0; i < size; i++) {
    const memberId = (await createMember(em, { name: `Member ${i}` }, { clock })).id;
    await addMember(em, { groupId, memberId, joinedAt });
    memberIds.push(memberId);
  }
  return { groupId, memberIds };
}

describe.each(DIALECTS)('markAbsent on %s', (dialect) => {
  let db: Database;
  beforeEach(async () => {
    db = await openDatabase(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  it('marks at exactly start + failMinutes and leaves the event open one millisecond before', async () => {
    const { groupId, memberIds } = await seedGroup(db.orm, 3);
    const eventId = (await createEvent(db.orm, { groupId, title: 'Practice', startsAt: START, failMinutes: 10 })).id;

    expect(await markAbsent(db.orm, { now: new Date(at(10).getTime() - 1) })).toEqual({
      eventsClosed: 0,
      rowsUpdated: 0,
      rowsInserted: 0,
      batches: 0,
    });
    expect(await db.records(eventId)).toEqual([]);
    expect(await db.closedAt(eventId)).toBeNull();

    expect(await markAbsent(db.orm, { now: at(10) })).toEqual({ eventsClosed: 1, rowsUpdated: 0, rowsInserted: 3, batches: 1 });
    expect((await db.records(eventId)).map((r) => [r.memberId, r.status])).toEqual(memberIds.map((id) => [id, 'ABSENT']));
    expect(await db.closedAt(eventId)).toEqual(at(10));
  });

  it('treats failMinutes 0 as "absent from the start instant"', async () => {
    const { groupId } = await seedGroup(db.orm, 2);
    const eventId = (await createEvent(db.orm, { groupId, title: 'Roll call', startsAt: START, failMinutes: 0 })).id;
    expect((await markAbsent(db.orm, { now: START })).rowsInserted).toBe(2);
    expect(await db.closedAt(eventId)).toEqual(START);
  });

  it('turns UNCHECKED into ABSENT and never downgrades PRESENT, LATE or an override', async () => {
    const { groupId, memberIds } = await seedGroup(db.orm, 5);
    const [present, late, overridden, unchecked, missing] = memberIds as [number, number, number, number, number];
    const eventId = (await createEvent(db.orm, { groupId, title: 'Match', startsAt: START, failMinutes: 15 })).id;
    await openRollCall(db.orm, { eventId });
    await checkIn(db.orm, { eventId, memberId: present, at: at(-1) });
    await checkIn(db.orm, { eventId, memberId: late, at: at(14) });
    await markPresent(db.orm, { eventId, memberId: overridden }, { clock });
    void unchecked;
    void missing;

    const counts = await markAbsent(db.orm, { now: at(15) });
    expect(counts).toEqual({ eventsClosed: 1, rowsUpdated: 2, rowsInserted: 0, batches: 1 });
    expect((await db.records(eventId)).map((r) => r.status)).toEqual(['PRESENT', 'LATE', 'PRESENT', 'ABSENT', 'ABSENT']);
  });

  it('leaves future events and already-closed events untouched', async () => {
    const { groupId } = await seedGroup(db.orm, 2);
    const past = (await createEvent(db.orm, { groupId, title: 'Past', startsAt: at(-60), failMinutes: 5 })).id;
    const future = (await createEvent(db.orm, { groupId, title: 'Future', startsAt: at(60), failMinutes: 5 })).id;
    const graceRunning = (await createEvent(db.orm, { groupId, title: 'Now', startsAt: at(-5), failMinutes: 10 })).id;

    expect(await markAbsent(db.orm, { now: START })).toMatchObject({ eventsClosed: 1, rowsInserted: 2 });
    const firstClose = await db.closedAt(past);
    // A member joining after the close and a later run change nothing on the closed event.
    const latecomer = (await createMember(db.orm, { name: 'Late joiner' }, { clock })).id;
    await addMember(db.orm, { groupId, memberId: latecomer, joinedAt: at(1) });
    expect(await markAbsent(db.orm, { now: at(2) })).toEqual({ eventsClosed: 0, rowsUpdated: 0, rowsInserted: 0, batches: 0 });
    expect(await db.closedAt(past)).toEqual(firstClose);
    expect(await db.records(past)).toHaveLength(2);
    expect(await db.records(future)).toEqual([]);
    expect(await db.closedAt(future)).toBeNull();
    expect(await db.closedAt(graceRunning)).toBeNull();

    // The in-grace event closes later; the latecomer joined before its deadline, so is expected.
    expect(await markAbsent(db.orm, { now: at(5) })).toMatchObject({ eventsClosed: 1, rowsInserted: 3 });
  });

  it('expects only members who joined the group by the deadline', async () => {
    const { groupId } = await seedGroup(db.orm, 2);
    const eventId = (await createEvent(db.orm, { groupId, title: 'Lesson', startsAt: START, failMinutes: 10 })).id;
    const atDeadline = (await createMember(db.orm, { name: 'On the dot' }, { clock })).id;
    await addMember(db.orm, { groupId, memberId: atDeadline, joinedAt: at(10) });
    const afterDeadline = (await createMember(db.orm, { name: 'After' }, { clock })).id;
    await addMember(db.orm, { groupId, memberId: afterDeadline, joinedAt: at(11) });

    // The run comes late (an outage); the member who joined after the deadline is still not expected.
    await markAbsent(db.orm, { now: at(30) });
    const marked = (await db.records(eventId)).map((r) => r.memberId);
    expect(marked).toHaveLength(3);
    expect(marked).toContain(atDeadline);
    expect(marked).not.toContain(afterDeadline);
  });

  it('a roll call opened after the deadline does not expect, nor mark absent, a member who joined late', async () => {
    const { groupId, memberIds } = await seedGroup(db.orm, 1);
    const eventId = (await createEvent(db.orm, { groupId, title: 'Lesson', startsAt: START, failMinutes: 15 })).id;
    const late = (await createMember(db.orm, { name: 'Late joiner' }, { clock })).id;
    await addMember(db.orm, { groupId, memberId: late, joinedAt: at(20) });
    expect(await openRollCall(db.orm, { eventId })).toBe(1);
    await markAbsent(db.orm, { now: at(25) });
    const records = await db.records(eventId);
    expect(records.map((r) => [r.memberId, r.status])).toEqual([[memberIds[0], 'ABSENT']]);
  });

  it('is idempotent: a second run over the same slot changes nothing', async () => {
    const { groupId } = await seedGroup(db.orm, 4);
    for (let i = 0; i < 3; i++) await createEvent(db.orm, { groupId, title: `E${i}`, startsAt: at(-i * 60), failMinutes: 5 });
    const first = await markAbsent(db.orm, { now: at(5), batchSize: 2 });
    expect(first).toEqual({ eventsClosed: 3, rowsUpdated: 0, rowsInserted: 12, batches: 2 });
    expect(await markAbsent(db.orm, { now: at(5), batchSize: 2 })).toEqual({
      eventsClosed: 0,
      rowsUpdated: 0,
      rowsInserted: 0,
      batches: 0,
    });
  });

  it('sends the same number of statements whatever the number of members (set-based)', async () => {
    const statementsFor = async (members: number) => {
      const { groupId } = await seedGroup(db.orm, members);
      await createEvent(db.orm, { groupId, title: `${members} members`, startsAt: START, failMinutes: 0 });
      db.resetQueries();
      const counts = await markAbsent(db.orm, { now: START });
      expect(counts.rowsInserted).toBe(members);
      return db.queries.length;
    };
    const few = await statementsFor(1);
    const many = await statementsFor(40);
    expect(many).toBe(few);
  });

  it('rejects bad input and writes nothing', async () => {
    const { groupId } = await seedGroup(db.orm, 1);
    const base = { groupId, title: 'Bad', startsAt: START };
    await expect(createEvent(db.orm, { ...base, failMinutes: -1 })).rejects.toThrow(
      /^\[tickwork\] \[attendance\] createEvent: failMinutes must be an integer/,
    );
    await expect(createEvent(db.orm, { ...base, failMinutes: Number.NaN })).rejects.toBeInstanceOf(InvalidAttendanceInputError);
    await expect(createEvent(db.orm, { ...base, failMinutes: 1.5 })).rejects.toThrow(/failMinutes/);
    await expect(createEvent(db.orm, { title: 'No group', startsAt: START, failMinutes: 5 } as never)).rejects.toThrow(
      /createEvent: groupId is required/,
    );
    await expect(createEvent(db.orm, { ...base, groupId: 424_242, failMinutes: 5 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(createEvent(db.orm, { ...base, startsAt: 'soon', failMinutes: 5 })).rejects.toThrow(/createEvent: startsAt/);
    await expect(markAbsent(db.orm, { now: new Date(Number.NaN) })).rejects.toThrow(/markAbsent: now/);
    await expect(markAbsent(db.orm, { now: START, batchSize: 0 })).rejects.toThrow(/markAbsent: batchSize/);
    expect(await markAbsent(db.orm, { now: at(1_000_000) })).toMatchObject({ eventsClosed: 0 });
  });

  it('closes each event once when two runners on separate connections race', async () => {
    const groups = [await seedGroup(db.orm, 12), await seedGroup(db.orm, 7)];
    const eventIds: number[] = [];
    for (let i = 0; i < 30; i++) {
      const group = groups[i % 2] as { groupId: number; memberIds: number[] };
      const eventId = (await createEvent(db.orm, { groupId: group.groupId, title: `E${i}`, startsAt: at(-i), failMinutes: 0 })).id;
      if (i % 3 === 0) await openRollCall(db.orm, { eventId });
      if (i % 5 === 0) await checkIn(db.orm, { eventId, memberId: group.memberIds[0] as number, at: at(-i - 1) });
      eventIds.push(eventId);
    }
    const expectedRows = 15 * 12 + 15 * 7;
    const [a, b] = await Promise.all([
      markAbsent(db.orm, { now: START, batchSize: 2 }),
      db.markAbsentElsewhere({ now: START, batchSize: 2 }),
    ]);
    expect(a.eventsClosed + b.eventsClosed).toBe(30);
    const absent = (await Promise.all(eventIds.map((id) => db.records(id)))).flat();
    expect(absent).toHaveLength(expectedRows);
    const present = absent.filter((r) => r.status === 'PRESENT').length;
    expect(present).toBe(6);
    // Every row was written by exactly one of the two runners.
    expect(a.rowsUpdated + a.rowsInserted + b.rowsUpdated + b.rowsInserted).toBe(expectedRows - present);
    for (const id of eventIds) expect(await db.closedAt(id)).toEqual(START);
  });
});
