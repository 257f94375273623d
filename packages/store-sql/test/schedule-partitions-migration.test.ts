/**
 * The stored schedule partitions (issue #23): the upgrade fills the partition of every schedule
 * already stored, a row inserted as the previous release inserts it (no partition) is listed with
 * its partitions all the same (PostgreSQL: the trigger gives it one; SQLite: the listing fills it
 * in), and a partitioned listing equals listing everything and keeping those partitions.
 */
import type { RuntimeSchedule, ScheduleRef } from '@tickwork/core';
import { partitionOf } from '@tickwork/core/store';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED } from '../src/migrate.js';
import { checkUpsert } from '../src/validate.js';
import { adminQuery, pgOptions, randomSchema, rawSqlite, runtimeSchedule, tempSqliteFile } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const PARTS = MIGRATION_NAMES.indexOf('Migration20261203080000_tickwork_schedule_partitions');
const PREVIOUS = SHIPPED.slice(0, PARTS);

const refs = (prefix: string, count: number): ScheduleRef[] =>
  Array.from({ length: count }, (_, i) => ({ code: i % 3 === 0 ? 'billing' : 'report', key: `${prefix}-${i}` }));

/** The rows as the previous release inserts them: every column but the partition. */
function oldInserts(list: readonly ScheduleRef[]): string[] {
  const { definitions } = checkUpsert(list.map(runtimeSchedule), AT);
  return list.map(
    (ref, i) =>
      `INSERT INTO tickwork_schedule (code, key, definition, enabled, version, created_at, updated_at)
       VALUES ('${ref.code}', '${ref.key}', '${(definitions[i] as string).replaceAll("'", "''")}', true, ${i + 1}, $AT, $AT)`,
  );
}

interface Dialect {
  name: string;
  setUp(undo: (() => Promise<unknown>)[]): Promise<{
    options: SqlStoreOptions;
    run(statements: string[]): Promise<void>;
    parts(): Promise<{ code: string; key: string; part: number | null }[]>;
  }>;
}

const DIALECTS: Dialect[] = [
  {
    name: 'PostgreSQL',
    setUp: async (undo) => {
      const schema = randomSchema();
      undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
      return {
        options: pgOptions(schema),
        run: async (statements) => {
          for (const sql of statements) {
            await adminQuery(
              sql.replaceAll('tickwork_schedule', `"${schema}".tickwork_schedule`).replaceAll('$AT', `'${AT.toISOString()}'`),
            );
          }
        },
        parts: () => adminQuery(`SELECT code, key, part FROM "${schema}".tickwork_schedule`),
      };
    },
  },
  {
    name: 'SQLite',
    setUp: async (undo) => {
      const temp = tempSqliteFile();
      undo.push(async () => temp.remove());
      return {
        options: { driver: 'sqlite', dbName: temp.file },
        run: async (statements) => {
          rawSqlite(temp.file, ...statements.map((sql) => sql.replaceAll('$AT', String(AT.getTime())).replace(', true,', ', 1,')));
        },
        parts: async () => rawSqlite(temp.file, 'SELECT code, key, part FROM tickwork_schedule'),
      };
    },
  },
];

/** Every schedule of the store, page by page, with `query`. */
async function listAll(store: ReturnType<typeof createSqlStore>, query: { partitions?: number[] }): Promise<RuntimeSchedule[]> {
  const out: RuntimeSchedule[] = [];
  let cursor: string | null = null;
  do {
    const page: { schedules: RuntimeSchedule[]; nextCursor: string | null } = await store.listSchedules({
      ...query,
      limit: 50,
      ...(cursor === null ? {} : { cursor }),
    });
    out.push(...page.schedules);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

describe.each(DIALECTS)('stored schedule partitions on $name', ({ setUp }) => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (undo.length > 0) await undo.pop()!();
  });

  it("the upgrade fills every stored schedule's partition; a row inserted as the previous release does is listed by its partition", async () => {
    const { options, run, parts } = await setUp(undo);
    await migrateWith(options, PREVIOUS);
    const before = refs('old', 300);
    await run(oldInserts(before));
    expect(await migrate(options)).toEqual({ applied: MIGRATION_NAMES.slice(PARTS), current: [...MIGRATION_NAMES] });
    const stored = await parts();
    expect(stored).toHaveLength(300);
    for (const row of stored) expect(row.part, `${row.code} ${row.key}`).toBe(partitionOf(row.code, row.key));

    // A previous-release runner beside this one inserts without a partition (its versions continue past the seeded ones).
    const late = refs('late', 40);
    await run(oldInserts(late).map((sql) => sql.replace(/, (\d+), \$AT, \$AT\)/, (_, v) => `, ${Number(v) + 300}, $AT, $AT)`)));
    const store = createSqlStore(options);
    undo.push(() => store.close());
    const all = await listAll(store, {});
    expect(all).toHaveLength(340);
    const wanted = [0, 3, 17, 64, 100, 128, 200, 255, ...new Set([...before, ...late].slice(0, 40).map((r) => partitionOf(r.code, r.key)))];
    const distinct = [...new Set(wanted)];
    const expected = all
      .map((s, i) => ({ s, i, p: partitionOf(s.code, s.key) }))
      .filter(({ p }) => distinct.includes(p))
      .sort((x, y) => x.p - y.p || x.i - y.i)
      .map(({ s }) => s);
    expect(await listAll(store, { partitions: distinct })).toEqual(expected);
    for (const row of await parts()) expect(row.part, `${row.code} ${row.key}`).toBe(partitionOf(row.code, row.key));
  });
});
