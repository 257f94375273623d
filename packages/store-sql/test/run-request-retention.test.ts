/**
 * Run-now requests through the seventh migration, on a populated database: thousands of
 * consumed requests and pending ones of several schedules written before it; after it a
 * schedule's pending requests are read through their own index, and retention (pruneRuns)
 * deletes consumed requests older than the cutoff in batches, never a pending one.
 */
import { claimFor as claim, prepareSchedules } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED } from '../src/migrate.js';
import { adminQuery, pgOptions, randomSchema, rawSqlite, tempSqliteFile } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const DAY = 86_400_000;
const CONSUMED = 5_000;
const BILLING = { code: 'billing', key: '' };
const REPORT = { code: 'report', key: '' };
const SEVENTH = MIGRATION_NAMES.indexOf('Migration20261202231000_tickwork_run_request_indexes');

interface Dialect {
  name: string;
  open(undo: (() => Promise<unknown>)[]): Promise<{ options: SqlStoreOptions; sql(statement: string): Promise<Record<string, unknown>[]> }>;
}

const dialects: Dialect[] = [
  {
    name: 'PostgreSQL',
    open: async (undo) => {
      const schema = randomSchema();
      undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
      return { options: pgOptions(schema), sql: (statement) => adminQuery(statement.replaceAll('{s}', `"${schema}".`)) };
    },
  },
  {
    name: 'SQLite',
    open: async (undo) => {
      const temp = tempSqliteFile();
      undo.push(async () => temp.remove());
      return {
        options: { driver: 'sqlite', dbName: temp.file },
        sql: async (statement) => rawSqlite(temp.file, statement.replaceAll('{s}', '')),
      };
    },
  },
];

describe.each(dialects)('run-now requests through the seventh migration on $name', ({ name, open }) => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (undo.length > 0) await undo.pop()!();
  });

  it('pending requests per schedule, consumed ones pruned with the retention in batches, pending never', async () => {
    const { options, sql } = await open(undo);
    await migrateWith(options, SHIPPED.slice(0, SEVENTH));
    // Rows as the previous version wrote them: CONSUMED consumed requests of billing 10 days ago, 3 pending of billing, 2 of report.
    const instant = (ms: number) => (name === 'PostgreSQL' ? `'${new Date(ms).toISOString()}'::timestamptz` : String(ms));
    const old = AT.getTime() - 10 * DAY;
    await sql(
      name === 'PostgreSQL'
        ? `INSERT INTO {s}tickwork_run_request (code, key, requested_at, consumed_at) SELECT 'billing', '', ${instant(old)}, ${instant(old + 1000)} FROM generate_series(1, ${CONSUMED})`
        : `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${CONSUMED}) INSERT INTO tickwork_run_request (code, key, requested_at, consumed_at) SELECT 'billing', '', ${old}, ${old + 1000} FROM n`,
    );
    for (const [code, n] of [
      ['billing', 3],
      ['report', 2],
    ] as const) {
      for (let i = 0; i < n; i++)
        await sql(`INSERT INTO {s}tickwork_run_request (code, key, requested_at) VALUES ('${code}', '', ${instant(old + i)})`);
    }

    expect((await migrate(options)).applied).toEqual(MIGRATION_NAMES.slice(SEVENTH));
    const indexes = await sql(
      name === 'PostgreSQL'
        ? `SELECT indexname AS name FROM pg_indexes WHERE schemaname = '${(options as { schema: string }).schema}' AND tablename = 'tickwork_run_request' ORDER BY 1`
        : `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickwork_run_request' AND name NOT LIKE 'sqlite_%' ORDER BY 1`,
    );
    expect(indexes.map((r) => r.name)).toEqual(
      expect.arrayContaining(['tickwork_run_request_consumed_idx', 'tickwork_run_request_schedule_idx']),
    );

    const store = createSqlStore(options);
    undo.push(() => store.close());
    await prepareSchedules(store, [BILLING, REPORT], AT);
    const report = await store.pendingRunRequests({ refs: [REPORT] });
    expect(report.map((r) => r.code)).toEqual(['report', 'report']);
    const billing = await store.pendingRunRequests({ refs: [BILLING] });
    expect(billing).toHaveLength(3);

    // One pending request is claimed (consumed now, at AT): retention 7 days keeps it and every pending one.
    const [claimed] = await store.claimSlots([claim(BILLING, billing[0]!.requestedAt, { trigger: 'manual', requestId: billing[0]!.id })], {
      runnerId: 'r1',
      now: AT,
    });
    expect(claimed?.status).toBe('claimed');
    const count = async () => Number((await sql(`SELECT count(*) AS n FROM {s}tickwork_run_request`))[0]!.n);
    expect(await count()).toBe(CONSUMED + 5);
    expect(await store.pruneRuns({ olderThan: new Date(AT.getTime() - 7 * DAY), batchSize: 1000 })).toBe(0);
    expect(await count()).toBe(5);
    expect((await store.pendingRunRequests()).map((r) => r.code).sort()).toEqual(['billing', 'billing', 'report', 'report']);
    // A cutoff after the claim takes the request it consumed too; still no pending one.
    if (claimed?.status === 'claimed') await store.completeRuns([{ lease: claimed.lease, status: 'succeeded', finishedAt: AT }]);
    expect(await store.pruneRuns({ olderThan: new Date(AT.getTime() + 1000) })).toBe(1);
    expect(await count()).toBe(4);
    expect(await store.pendingRunRequests()).toHaveLength(4);
  });
});
