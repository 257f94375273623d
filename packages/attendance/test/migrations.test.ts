import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseSchema, type SqlEntityManager, type Table } from '@mikro-orm/postgresql';
import { createFakeClock } from '@tickwork/core';
import { AttendanceSchema, addMember, checkIn, createEvent, createGroup, createMember, migrateAttendance } from '../src/index.js';
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
    // Only this test's schema is introspected: MikroORM's default introspection lists every
    // schema of the database, and other suites create and drop theirs meanwhile (a schema
    // dropped between the listing and the read failed this test on a busy machine). The
    // migrations' own bookkeeping table is not an entity, so the diff would drop it.
    const schema = db.orm.config.get('schema') as string;
    const em = db.orm.em as SqlEntityManager;
    const connection = em.getConnection();
    const platform = em.getPlatform();
    const helper = platform.getSchemaHelper();
    if (!helper) throw new Error('the PostgreSQL platform has no schema helper');
    const tables = (await connection.execute(helper.getListTablesSQL(), [], 'all')) as Table[];
    const fromSchema = new DatabaseSchema(platform, schema);
    const ours = tables.filter((t) => t.schema_name === schema && t.table_name !== 'attendance_migrations');
    expect(ours.map((t) => t.table_name).sort()).toContain('attendance_record');
    await helper.loadInformationSchema(fromSchema, connection, ours, [schema]);
    const diff = (await db.orm.schema.getUpdateSchemaSQL({ wrap: false, fromSchema, schema }))
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(diff).toEqual([]);
  });
});
