import type { MikroORM } from '@mikro-orm/core';
import { addMember, checkIn, createEvent, createGroup, createMember, GroupSchema, openRollCall } from '@tickwork/attendance';
import type { Clock } from '@tickwork/core';

/** What {@link seedDemoData} created, or null when the database already had data. */
export interface SeededDemo {
  groupId: number;
  memberIds: number[];
  /** Started 20 minutes ago with failMinutes 15: its absentees are due now. */
  pastEventId: number;
  /** Starts in an hour. */
  futureEventId: number;
}

const MINUTE = 60_000;

/**
 * Seeds the quick start's demo into an empty database: one group of four members, an event
 * that started 20 minutes ago (failMinutes 15; Ada checked in on time, Grace late, Linus and
 * Margaret not at all) and one an hour from now. A database with any group is left alone.
 */
export async function seedDemoData(orm: MikroORM, clock: Clock): Promise<SeededDemo | null> {
  if ((await orm.em.fork().count(GroupSchema, {})) > 0) return null;
  const now = clock.now().getTime();
  const group = await createGroup(orm, { name: 'Tuesday climbing club' }, { clock });
  const names = ['Ada Lovelace', 'Grace Hopper', 'Linus Torvalds', 'Margaret Hamilton'];
  const memberIds: number[] = [];
  for (const name of names) {
    const member = await createMember(orm, { name }, { clock });
    await addMember(orm, { groupId: group.id, memberId: member.id, joinedAt: new Date(now - 24 * 60 * MINUTE) });
    memberIds.push(member.id);
  }
  const past = await createEvent(
    orm,
    { groupId: group.id, title: 'Warm-up session', startsAt: new Date(now - 20 * MINUTE), failMinutes: 15 },
    { clock },
  );
  await openRollCall(orm, { eventId: past.id });
  const [ada, grace] = memberIds as [number, number];
  await checkIn(orm, { eventId: past.id, memberId: ada, at: new Date(now - 21 * MINUTE) });
  await checkIn(orm, { eventId: past.id, memberId: grace, at: new Date(now - 12 * MINUTE) });
  const future = await createEvent(
    orm,
    { groupId: group.id, title: 'Evening climb', startsAt: new Date(now + 60 * MINUTE), failMinutes: 15 },
    { clock },
  );
  return { groupId: group.id, memberIds, pastEventId: past.id, futureEventId: future.id };
}
