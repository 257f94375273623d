import { encodeScheduleDefinition, type RunRecord } from '@tickwork/core';
import { claimFor as claim } from '@tickwork/store-conformance';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate } from '../src/index.js';
import { adminQuery, PG_URL, pgOptions, randomSchema, runtimeSchedule as schedule } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const TENANT = { code: 'report', key: 'tenant-1' };

/** Resolves once a backend of the store on `schema` waits for a row lock (so the racing call is provably blocked). */
async function blockedOnLock(schema: string): Promise<void> {
  for (let i = 0; i < 250; i += 1) {
    const rows = await adminQuery(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [`tickwork:${schema}`]);
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the store never waited for the lock');
}

describe('PostgreSQL: schedule writes racing claims and each other (two real connections)', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  async function setUp() {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrate(pgOptions(schema));
    const store = createSqlStore(pgOptions(schema));
    undo.push(() => store.close());
    const other = new pg.Client({ connectionString: PG_URL, application_name: 'tickwork-test-other' });
    await other.connect();
    undo.push(() => other.end());
    return { schema, store, other };
  }

  it('a removal waits for a claim in flight on that schedule; its runs then complete or are reaped with no state, and none is recreated', async () => {
    const { schema, store, other } = await setUp();
    await store.upsertSchedules([schedule(TENANT)], AT);
    await other.query('BEGIN');
    // The claim function exactly as the store calls it (two parallel runs), held open in a transaction.
    const input = [0, 1].map((ord) => ({
      ord, ...TENANT, slot_at: new Date(AT.getTime() + ord * 60_000).toISOString(), attempt: 1, trigger: 'schedule', allow_parallel: true,
      lease_ms: 60_000, schedule_version: 1,
    }));
    const held = (await other.query(`SELECT outcome FROM "${schema}".tickwork_claim_slots($1::jsonb, 'a', $2)`, [JSON.stringify(input), AT])).rows;
    expect(held.map((row: { outcome: string }) => row.outcome)).toEqual(['claimed', 'claimed']);

    const removing = store.removeSchedules([TENANT]);
    await blockedOnLock(schema);
    await other.query('COMMIT');
    expect(await removing).toEqual([true]);

    const { runs } = await store.queryRuns({ code: TENANT.code });
    expect(runs.map((r) => r.status)).toEqual(['running', 'running']);
    expect(await store.getStates([TENANT])).toEqual([]);
    const [second, first] = runs as [RunRecord, RunRecord];
    const lease = { ...TENANT, runId: first.id, token: first.token, runnerId: 'a', expiresAt: first.leaseExpiresAt! };
    const [done] = await store.completeRuns([{ lease, status: 'failed', finishedAt: new Date(AT.getTime() + 1000), error: 'boom' }]);
    expect(done).toMatchObject({ status: 'completed', state: null, run: { status: 'failed', error: 'boom' } });
    const reaped = await store.reapExpired({ now: new Date(AT.getTime() + 3 * 60_000) });
    expect(reaped.map((r) => [r.id, r.status])).toEqual([[second.id, 'interrupted']]);
    expect(await store.getStates()).toEqual([]);
  });

  it('a claim waits for a removal in flight and is then unscheduled, creating no state', async () => {
    const { schema, store, other } = await setUp();
    await store.upsertSchedules([schedule(TENANT)], AT);
    await other.query('BEGIN');
    const removed = await other.query(`SELECT code, key FROM "${schema}".tickwork_remove_schedules($1::jsonb, 'unused')`, [JSON.stringify([TENANT])]);
    expect(removed.rows).toEqual([TENANT]);

    const claiming = store.claimSlots([claim(TENANT, AT)], { runnerId: 'b', now: AT });
    await blockedOnLock(schema);
    await other.query('COMMIT');
    expect(await claiming).toEqual([{ status: 'unscheduled' }]);
    expect((await store.queryRuns()).runs).toEqual([]);
    expect(await store.getStates()).toEqual([]);
  });

  it('a run-now request waits for a removal in flight and is then refused, filing nothing', async () => {
    const { schema, store, other } = await setUp();
    await store.upsertSchedules([schedule(TENANT)], AT);
    await other.query('BEGIN');
    await other.query(`SELECT * FROM "${schema}".tickwork_remove_schedules($1::jsonb, 'unused')`, [JSON.stringify([TENANT])]);
    const requesting = store.requestRun(TENANT, { now: AT }).catch((e: unknown) => e);
    await blockedOnLock(schema);
    await other.query('COMMIT');
    expect(String(await requesting)).toMatch(/InvalidArgumentError: .*requestRun: .*job "report".* no runtime schedule with that key/);
    expect(await store.pendingRunRequests()).toEqual([]);
  });

  it('schedule writers take turns, so versions are handed out in commit order and the revision sees every change', async () => {
    const { schema, store, other } = await setUp();
    const first = { ...TENANT, key: 'first' };
    const second = { ...TENANT, key: 'second' };
    await other.query('BEGIN');
    const items = [{ ord: 0, code: first.code, key: first.key, definition: encodeScheduleDefinition(schedule(first)), enabled: true }];
    await other.query(`SELECT * FROM "${schema}".tickwork_upsert_schedules($1::jsonb, $2, 'unused')`, [JSON.stringify(items), AT]);

    const upserting = store.upsertSchedules([schedule(second)], AT);
    await blockedOnLock(schema);
    expect(await store.schedulesRevision()).toBe('0:0'); // the uncommitted write is not seen
    await other.query('COMMIT');
    const [written] = await upserting;
    expect(written?.version).toBe(2);
    expect(await store.schedulesRevision()).toBe('2:0');
    expect(await store.removeSchedules([first, second, first])).toEqual([true, true, false]);
    expect(await store.schedulesRevision()).toBe('2:2');
  });
});
