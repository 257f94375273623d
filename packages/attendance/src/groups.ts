import { systemClock, type Clock } from '@tickwork/core';
import { resolveEntityManager, type AttendanceDatabase } from './database.js';
import { GroupMembershipSchema, GroupSchema, MemberSchema, type Group, type GroupMembership, type Member } from './entities.js';
import { AttendanceError, NotFoundError } from './errors.js';
import { requireId, requireInstant, requireName, requireObject } from './input.js';

/** Where "now" comes from for calls that stamp a time. */
export interface ClockOption {
  /** Default: the system clock. */
  clock?: Clock;
}

/** Creates a member. */
export async function createMember(database: AttendanceDatabase, input: { name: string }, options: ClockOption = {}): Promise<Member> {
  requireObject(input, 'createMember: input');
  const name = requireName(input.name, 'createMember: name');
  const em = await resolveEntityManager(database);
  const member = em.create(MemberSchema, { name, createdAt: (options.clock ?? systemClock).now() });
  await em.flush();
  return member;
}

/** Creates a group (a club, class or team). */
export async function createGroup(database: AttendanceDatabase, input: { name: string }, options: ClockOption = {}): Promise<Group> {
  requireObject(input, 'createGroup: input');
  const name = requireName(input.name, 'createGroup: name');
  const em = await resolveEntityManager(database);
  const group = em.create(GroupSchema, { name, createdAt: (options.clock ?? systemClock).now() });
  await em.flush();
  return group;
}

/**
 * Adds a member to a group as of `joinedAt` (default: now). The member is expected at the
 * group's events whose absence deadline is at or after `joinedAt`. Adding twice is rejected.
 */
export async function addMember(
  database: AttendanceDatabase,
  input: { groupId: number; memberId: number; joinedAt?: Date | string },
  options: ClockOption = {},
): Promise<GroupMembership> {
  requireObject(input, 'addMember: input');
  const groupId = requireId(input.groupId, 'addMember: groupId');
  const memberId = requireId(input.memberId, 'addMember: memberId');
  const joinedAt =
    input.joinedAt === undefined ? (options.clock ?? systemClock).now() : requireInstant(input.joinedAt, 'addMember: joinedAt');
  const em = await resolveEntityManager(database);
  const [group, member] = await Promise.all([em.findOne(GroupSchema, groupId), em.findOne(MemberSchema, memberId)]);
  if (!group) throw new NotFoundError('group', groupId);
  if (!member) throw new NotFoundError('member', memberId);
  if (await em.count(GroupMembershipSchema, { group: groupId, member: memberId })) {
    throw new AttendanceError(`addMember: member ${memberId} is already in group ${groupId}`);
  }
  const membership = em.create(GroupMembershipSchema, { group, member, joinedAt });
  await em.flush();
  return membership;
}
