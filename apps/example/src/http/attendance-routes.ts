import type { MikroORM } from '@mikro-orm/core';
import {
  absenceDeadline,
  addMember,
  AttendanceEventSchema,
  checkIn,
  createEvent,
  createGroup,
  createMember,
  GroupMembershipSchema,
  GroupSchema,
  markPresent,
  MemberSchema,
  NotFoundError,
  type AttendanceEvent,
} from '@tickwork/attendance';
import { describeThrown, type Clock, type Scheduler } from '@tickwork/core';
import { EVENT_REMINDER_CODE, reminderSchedule } from '../jobs/event-reminder.js';
import type { FastifyInstance } from 'fastify';
import { readRoll } from './event-roll.js';
import { attendanceParams, checkInBody, eventBody, eventsQuery, idParams, membershipBody, nameBody, overrideBody } from './schemas.js';

/** What the attendance routes need. */
export interface AttendanceRoutesDeps {
  orm: MikroORM;
  clock: Clock;
  /** Stores each new event's reminder as a runtime schedule of the reminder job. */
  scheduler: Scheduler;
}

type IdParams = { id: string };

/** Groups, members, events, check-ins and the admin override. */
export function registerAttendanceRoutes(app: FastifyInstance, deps: AttendanceRoutesDeps): void {
  const { orm, clock, scheduler } = deps;
  const em = () => orm.em.fork();

  app.get('/members', async () => (await em().find(MemberSchema, {}, { orderBy: { id: 'asc' } })).map(memberView));

  app.post<{ Body: { name: string } }>('/members', { schema: { body: nameBody } }, async (request, reply) => {
    const member = await createMember(orm, request.body, { clock });
    return reply.status(201).send(memberView(member));
  });

  app.get('/groups', async () => {
    const groups = await em().find(GroupSchema, {}, { orderBy: { id: 'asc' } });
    return groups.map((g) => ({ id: g.id, name: g.name, createdAt: g.createdAt }));
  });

  app.post<{ Body: { name: string } }>('/groups', { schema: { body: nameBody } }, async (request, reply) => {
    const group = await createGroup(orm, request.body, { clock });
    return reply.status(201).send({ id: group.id, name: group.name, createdAt: group.createdAt, members: [] });
  });

  app.get<{ Params: IdParams }>('/groups/:id', { schema: { params: idParams } }, async (request) => {
    const id = Number(request.params.id);
    const fork = em();
    const group = await fork.findOne(GroupSchema, id);
    if (!group) throw new NotFoundError('group', id);
    const memberships = await fork.find(GroupMembershipSchema, { group: id }, { populate: ['member'], orderBy: { id: 'asc' } });
    return {
      id: group.id,
      name: group.name,
      createdAt: group.createdAt,
      members: memberships.map((m) => ({ id: m.member.id, name: m.member.name, joinedAt: m.joinedAt })),
    };
  });

  app.post<{ Params: IdParams; Body: { memberId: number; joinedAt?: string } }>(
    '/groups/:id/members',
    { schema: { params: idParams, body: membershipBody } },
    async (request, reply) => {
      const membership = await addMember(orm, { groupId: Number(request.params.id), ...request.body }, { clock });
      return reply.status(201).send({ groupId: Number(request.params.id), memberId: request.body.memberId, joinedAt: membership.joinedAt });
    },
  );

  app.get<{ Querystring: { groupId?: string; open?: string } }>('/events', { schema: { querystring: eventsQuery } }, async (request) => {
    const where: Record<string, unknown> = {};
    if (request.query.groupId !== undefined) where.group = Number(request.query.groupId);
    if (request.query.open !== undefined) where.attendanceClosedAt = request.query.open === 'true' ? null : { $ne: null };
    const events = await em().find(AttendanceEventSchema, where, { orderBy: { startsAt: 'asc', id: 'asc' } });
    return events.map(eventView);
  });

  app.post<{ Body: { groupId: number; title: string; startsAt: string; failMinutes: number } }>(
    '/events',
    { schema: { body: eventBody } },
    async (request, reply) => {
      const event = await createEvent(orm, request.body, { clock });
      // The event is stored; a reminder the store could not take is reported, not a failed request.
      const definition = reminderSchedule(event, clock.now());
      let reminder: { key: string; at: string } | { error: string } | null = null;
      if (definition) {
        try {
          const stored = await scheduler.schedules(EVENT_REMINDER_CODE).upsert(definition);
          reminder = { key: stored.key, at: (stored.schedule as { at: string }).at };
        } catch (error) {
          reminder = { error: describeThrown(error).message };
        }
      }
      return reply.status(201).send({ ...eventView(event), reminder });
    },
  );

  app.get<{ Params: IdParams }>('/events/:id', { schema: { params: idParams } }, async (request) => {
    const id = Number(request.params.id);
    const fork = em();
    const event = await fork.findOne(AttendanceEventSchema, id);
    if (!event) throw new NotFoundError('event', id);
    const attendance = await readRoll(fork, { id, groupId: event.group.id, deadline: absenceDeadline(event) });
    return { ...eventView(event), attendance };
  });

  app.post<{ Params: IdParams; Body: { memberId: number; at?: string } }>(
    '/events/:id/check-ins',
    { schema: { params: idParams, body: checkInBody } },
    async (request, reply) => {
      const result = await checkIn(orm, { eventId: Number(request.params.id), ...request.body }, { clock });
      return reply.status(result.changed ? 201 : 200).send(result);
    },
  );

  app.put<{ Params: { id: string; memberId: string }; Body: { status: 'PRESENT' | 'LATE'; checkedAt?: string } }>(
    '/events/:id/attendance/:memberId',
    { schema: { params: attendanceParams, body: overrideBody } },
    async (request) =>
      markPresent(orm, { eventId: Number(request.params.id), memberId: Number(request.params.memberId), ...request.body }, { clock }),
  );
}

function memberView(member: { id: number; name: string; createdAt: Date }) {
  return { id: member.id, name: member.name, createdAt: member.createdAt };
}

function eventView(event: AttendanceEvent) {
  return {
    id: event.id,
    groupId: event.group.id,
    title: event.title,
    startsAt: event.startsAt,
    failMinutes: event.failMinutes,
    absentFrom: absenceDeadline(event),
    closedAt: event.attendanceClosedAt,
    open: event.attendanceClosedAt === null,
  };
}
