/**
 * The upgrade to the access migration (audit log and access tokens in the store) of a populated
 * database of the previous release: it only adds two tables (an expand migration), so every
 * existing row is exactly as it was, and the upgraded store appends, lists and prunes audit rows and keeps tokens.
 */
import { StoreSchemaError } from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED } from '../src/migrate.js';
import { adminQuery, pgOptions, randomSchema, rawSqlite, tempSqliteFile } from './fixtures.js';
import { DEAD_MAN_COLUMNS, DEAD_MAN_DEFAULTS } from './old-schema.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const TABLES = ['tickwork_job_state', 'tickwork_run', 'tickwork_run_request', 'tickwork_schedule', 'tickwork_schedule_counter'];
const ACCESS = 'Migration20261202224500_tickwork_access';
/** What the previous release shipped: every migration before this one. */
const PREVIOUS = SHIPPED.slice(
  0,
  SHIPPED.findIndex((m) => m.info.name === ACCESS),
);

async function checkUpgrade(options: SqlStoreOptions, snapshot: () => Promise<unknown>, undo: (() => Promise<unknown>)[]): Promise<void> {
  const store = createSqlStore(options);
  undo.push(() => store.close());
  const refused = await store.listAudit().catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(StoreSchemaError);
  expect((refused as Error).message).toContain(`missing migrations (${ACCESS}`);

  const before = await snapshot();
  expect(await migrate(options)).toEqual({ applied: MIGRATION_NAMES.slice(PREVIOUS.length), current: [...MIGRATION_NAMES] });
  expect(MIGRATION_NAMES[PREVIOUS.length]).toBe(ACCESS);
  const after = (await snapshot()) as Record<string, Record<string, unknown>[]>;
  // Later migrations of this release add columns of their own: limited runs' scheduled_runs, at 0,
  // skip reasons' last_skip_reason / last_skipped_slot_at, empty, and the dead-man migration's columns (#20), empty.
  for (const row of after.tickwork_job_state ?? []) {
    expect(Number(row.scheduled_runs)).toBe(0);
    expect([row.last_skip_reason, row.last_skipped_slot_at]).toEqual([null, null]);
    expect(Object.fromEntries(DEAD_MAN_COLUMNS.map((c) => [c, row[c]]))).toEqual(DEAD_MAN_DEFAULTS);
    delete row.scheduled_runs;
    delete row.last_skip_reason;
    delete row.last_skipped_slot_at;
    for (const column of DEAD_MAN_COLUMNS) delete row[column];
  }
  expect(after).toEqual(before);
  // The old rows read as before through the upgraded store.
  expect((await store.getStates()).map((s) => [s.code, s.paused, s.pausedNote])).toEqual([['billing', true, 'before the upgrade']]);
  expect((await store.pendingRunRequests()).map((r) => r.requestedBy)).toEqual(['ops']);

  const row = await store.appendAudit({
    at: AT,
    actor: { id: 'cli', name: 'ops', role: 'admin', via: 'cli' },
    action: 'job.resume',
    target: { code: 'billing', key: '' },
    before: { paused: true },
    after: { paused: false },
  });
  expect(row.id).toBe('1');
  expect((await store.listAudit()).entries).toEqual([row]);
  await store.addAccessToken({ id: 'tok1', name: 'ops', role: 'admin', hash: 'f'.repeat(64), createdAt: AT, expiresAt: null });
  expect((await store.listAccessTokens()).map((t) => t.id)).toEqual(['tok1']);
  expect(await store.pruneAudit({ olderThan: new Date(AT.getTime() + 1) })).toBe(1);
  expect(await migrate(options)).toEqual({ applied: [], current: [...MIGRATION_NAMES] });
}

describe('a populated database of the previous release migrates to the audit-log schema', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it('on PostgreSQL', async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    await migrateWith(pgOptions(schema), PREVIOUS);
    await adminQuery(
      `INSERT INTO ${s}.tickwork_job_state (code, key, paused, paused_note, created_at, updated_at) VALUES ('billing', '', true, 'before the upgrade', $1, $1)`,
      [AT],
    );
    await adminQuery(`INSERT INTO ${s}.tickwork_run_request (code, key, requested_at, requested_by) VALUES ('billing', '', $1, 'ops')`, [
      AT,
    ]);
    const snapshot = async () =>
      Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await adminQuery(`SELECT * FROM ${s}.${t} ORDER BY 1, 2`)])));
    await checkUpgrade(pgOptions(schema), snapshot, undo);
  });

  it('on SQLite', async () => {
    const db = tempSqliteFile();
    undo.push(async () => db.remove());
    await migrateWith({ driver: 'sqlite', dbName: db.file }, PREVIOUS);
    rawSqlite(
      db.file,
      `INSERT INTO tickwork_job_state (code, key, paused, paused_note, created_at, updated_at) VALUES ('billing', '', 1, 'before the upgrade', ${AT.getTime()}, ${AT.getTime()})`,
      `INSERT INTO tickwork_run_request (code, key, requested_at, requested_by) VALUES ('billing', '', ${AT.getTime()}, 'ops')`,
    );
    const snapshot = async () => Object.fromEntries(TABLES.map((t) => [t, rawSqlite(db.file, `SELECT * FROM ${t} ORDER BY 1, 2`)]));
    await checkUpgrade({ driver: 'sqlite', dbName: db.file }, snapshot, undo);
  });
});
