import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '@tickwork/core';
import {
  AttendanceSchema,
  addMember,
  checkIn,
  createEvent,
  createGroup,
  createMember,
  migrateAttendance,
} from '../src/index.js';
import { DIALECTS, openDatabase, type Database } from './fixtures.js';

describe.each(DIALECTS)('migrateAttendance on %s', (dialect) => {
  let db: Database | undefined;
  afterEach(async () => {
    await db?.close();
  });

  it('applies nothing the second time, also from another connection at once', async () => {
    db = await openDatabase(dialect);
    const other = await db.connect();
    expect(await Promise.all([migrateAttendance(db.orm), migrateAttendance(other)])).toEqual([[], []]);
  });

  it('creates tables the entities map onto', async () => {
    db = await openDatabase(dialect);
    const clock = createFakeClock('2025-03-01T17:00:00.000Z');
    const em = db.orm.em.fork();
    const groupId = (await createGroup(em, { name: 'Band' }, { clock })).id;
    const memberId = (await createMember(em, { name: 'Eve' }, { clock })).id;
    await addMember(em, { groupId, memberId }, { clock });
    const eventId = (await createEvent(em, { groupId, title: 'Gig', startsAt: '2025-03-01T18:00:00Z', failMinutes: 5 }, { clock })).id;
    await checkIn(em, { eventId, memberId, at: '2025-03-01T18:02:00Z' });
    const [row] = await db.orm.em.fork().find(AttendanceSchema, { event: eventId }, { populate: ['event.group', 'member'] });
    expect(row?.status).toBe('LATE');
    expect(row?.checkedAt).toEqual(new Date('2025-03-01T18:02:00Z'));
    expect(row?.member.name).toBe('Eve');
    expect(row?.event.group.name).toBe('Band');
  });

});

// On PostgreSQL MikroORM introspects checks and enums exactly; its SQLite introspection
// reports identical checks as changed, so the comparison is meaningful on PostgreSQL only.
describe('migrateAttendance on postgresql, compared with the entity mappings', () => {
  let db: Database | undefined;
  afterEach(async () => {
    await db?.close();
  });

  it('leaves the schema matching the entity mappings', async () => {
    db = await openDatabase('postgresql');
    // Only this test's schema counts (other suites' schemas share the database), and the
    // migrations' own bookkeeping table is not an entity, so the diff would drop it.
    const schema = db.orm.config.get('schema') as string;
    const diff = (await db.orm.schema.getUpdateSchemaSQL({ wrap: false }))
      .split('\n')
      .filter((line) => line.includes(`"${schema}"`) && !line.includes('attendance_migrations'));
    expect(diff).toEqual([]);
  });
});
