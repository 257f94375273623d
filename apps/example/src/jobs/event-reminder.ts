import { defineJob, once, type Job, type RunContext, type ScheduleDefinition } from '@tickwork/core';
import type { AppDatabase } from '../database.js';

/** Code of the per-event reminder job. */
export const EVENT_REMINDER_CODE = 'app.event-reminder';

/** How long before an event starts its reminder runs. */
export const REMINDER_LEAD_MINUTES = 15;

/** What each reminder schedule carries to its run. */
export interface ReminderPayload {
  eventId: number;
}

/**
 * The runtime-schedules example: no schedule of its own (`schedule: null`); creating an event
 * through the API stores a one-off schedule `event-<id>` for 15 minutes before it starts
 * (see {@link reminderSchedule}). A real app would notify the group; here the run log says
 * who is expected.
 */
export function eventReminderJob(options: { database: AppDatabase }): Job<ReminderPayload> {
  const { database } = options;
  return defineJob<ReminderPayload>({
    code: EVENT_REMINDER_CODE,
    description: `Reminds a group ${REMINDER_LEAD_MINUTES} minutes before each of its events (one runtime schedule per event)`,
    schedule: null,
    timeout: '1m',
    async run(ctx: RunContext<ReminderPayload>) {
      const eventId = ctx.payload?.eventId;
      if (typeof eventId !== 'number') throw new Error(`schedule "${ctx.key}" has no eventId in its payload`);
      const { AttendanceEventSchema, GroupMembershipSchema } = await import('@tickwork/attendance');
      const em = (await database.orm()).em.fork();
      const event = await em.findOne(AttendanceEventSchema, eventId, { populate: ['group'] });
      if (!event) {
        ctx.report(`event ${eventId} no longer exists: nothing to remind`);
        return;
      }
      const expected = await em.count(GroupMembershipSchema, { group: event.group.id, joinedAt: { $lte: event.startsAt } });
      ctx.report(
        `reminder: "${event.title}" (group "${event.group.name}") starts at ${event.startsAt.toISOString()}: ${expected} member(s) expected`,
      );
    },
  });
}

/** The reminder schedule of one event, or null when its reminder time has already passed. */
export function reminderSchedule(event: { id: number; title: string; startsAt: Date }, now: Date): ScheduleDefinition | null {
  const at = new Date(event.startsAt.getTime() - REMINDER_LEAD_MINUTES * 60_000);
  if (at.getTime() <= now.getTime()) return null;
  return {
    key: `event-${event.id}`,
    schedule: once(at),
    payload: { eventId: event.id } satisfies ReminderPayload,
    description: `reminder for "${event.title}"`,
  };
}
