import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { AttendanceStatus } from '@tickwork/attendance';

/** One expected member's attendance at an event, as `GET /events/:id` lists it. */
export interface RollEntry {
  memberId: number;
  name: string;
  status: AttendanceStatus;
  checkedAt: Date | null;
  overriddenAt: Date | null;
}

interface RollRow {
  member_id: number;
  name: string;
  joined_at: unknown;
  status: AttendanceStatus | null;
  checked_at: unknown;
  overridden_at: unknown;
}

/**
 * The roll of an event in one query: every member of its group with their record, if any.
 * Members who joined after `deadline` were never expected and are left out unless they have a
 * record. Read without entity hydration: a group of hundreds costs one round trip, not
 * hundreds of objects per request.
 */
export async function readRoll(em: EntityManager, event: { id: number; groupId: number; deadline: Date }): Promise<RollEntry[]> {
  const knex = (em as SqlEntityManager).getKnex();
  const schema = em.config.get('schema') as string | undefined;
  const table = (name: string, alias: string) => `${schema ? `${schema}.` : ''}${name} as ${alias}`;
  const rows = (await knex
    .select('m.member_id', 'p.name', 'm.joined_at', 'r.status', 'r.checked_at', 'r.overridden_at')
    .from(table('attendance_group_membership', 'm'))
    .join(table('attendance_member', 'p'), 'p.id', 'm.member_id')
    .leftJoin(table('attendance_record', 'r'), (on) =>
      on.on('r.member_id', '=', 'm.member_id').andOn('r.event_id', '=', knex.raw('?', [event.id])),
    )
    .where('m.group_id', event.groupId)
    .orderBy('m.id')) as RollRow[];
  return rows
    .filter((row) => row.status !== null || (instant(row.joined_at) as Date).getTime() <= event.deadline.getTime())
    .map((row) => ({
      memberId: Number(row.member_id),
      name: row.name,
      status: row.status ?? 'UNCHECKED',
      checkedAt: instant(row.checked_at),
      overriddenAt: instant(row.overridden_at),
    }));
}

// PostgreSQL returns Date objects; SQLite (MikroORM's datetime mapping) stores epoch milliseconds.
function instant(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : (value as string | number));
}
