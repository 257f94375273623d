import type { Options } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LibSqlDriver } from '@mikro-orm/libsql';
import { StoreSchemaError, type Store } from '@tickwork/core';
import { claimFor as claim } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { adminQuery, PG_URL, pgOptions, randomSchema, rawSqlite, runtimeSchedule as schedule, tempSqliteFile } from './fixtures.js';
import { migrateEarlier } from './old-schema.js';

const migrateFirstOnly = (config: Options, dialect: 'postgresql' | 'sqlite', schema: string) => migrateEarlier(1, config, dialect, schema);

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const TENANT = { code: 'report', key: 'tenant-1' };

/**
 * The upgrade path on one dialect: a store refuses the half-migrated schema, `migrate()`
 * applies only the new migration, old rows survive, and a runtime key used before
 * runtime schedules existed is unscheduled until a schedule is created for it.
 */
async function upgrade(options: SqlStoreOptions, seedOldRows: () => Promise<void>, undo: (() => Promise<unknown>)[]): Promise<Store> {
  await seedOldRows();
  const store = createSqlStore(options);
  undo.push(() => store.close());
  const refused = await store.getStates().catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(StoreSchemaError);
  expect((refused as Error).message).toMatch(
    /missing migrations \(Migration20261124000000_tickwork_schedules, Migration20261201000000_tickwork_exactly_once(, \w+)*\); run `tickwork migrate`/,
  );

  expect(await migrate(options)).toEqual({ applied: MIGRATION_NAMES.slice(1), current: [...MIGRATION_NAMES] });
  expect((await store.queryRuns()).runs.map((r) => `${r.code}/${r.key}`).sort()).toEqual(['billing/', 'report/tenant-1']);
  const [unscheduled] = await store.claimSlots([claim(TENANT, new Date(AT.getTime() + 60_000))], { runnerId: 'new', now: AT });
  expect(unscheduled).toEqual({ status: 'unscheduled' });
  expect(await store.pendingRunRequests()).toHaveLength(1);

  // Creating the schedule replaces the state left from before, with tokens still above the old run's.
  const [created] = await store.upsertSchedules([schedule(TENANT)], AT);
  expect(created).toMatchObject({ ...TENANT, version: 1, payload: { tenant: 1 }, createdAt: AT });
  const [state] = await store.getStates([TENANT]);
  expect(state).toMatchObject({ totalRuns: 0, lastSlotAt: null, createdAt: AT });
  // Once the old run's lease has expired (it is interrupted by this claim), the slot is claimed.
  const later = new Date(AT.getTime() + 120_000);
  const [claimed] = await store.claimSlots([claim(TENANT, later)], { runnerId: 'new', now: later });
  if (claimed?.status !== 'claimed') throw new Error(`expected claimed, got ${claimed?.status}`);
  expect(claimed.run.token).toBe(2);
  expect((await store.queryRuns({ key: TENANT.key, status: 'interrupted' })).runs.map((r) => r.runnerId)).toEqual(['old']);
  expect(await store.schedulesRevision()).toBe('1:0');
  return store;
}

describe('a deployment migrated by the previous version migrates forward', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it('on PostgreSQL: migrate() adds the schedule table and replaces the claim and completion functions', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrateFirstOnly({ driver: PostgreSqlDriver, clientUrl: PG_URL, schema } as Options, 'postgresql', schema);
    const seed = async () => {
      // Rows the previous version wrote, through its own claim function: a runtime key's claim then created a state.
      const input = [claim({ code: 'billing', key: '' }, AT), claim(TENANT, AT)].map((c, ord) => ({
        ord,
        code: c.code,
        key: c.key,
        slot_at: c.slotAt.toISOString(),
        attempt: 1,
        trigger: 'schedule',
        allow_parallel: false,
        lease_ms: 60_000,
      }));
      await adminQuery(`SELECT * FROM "${schema}".tickwork_claim_slots($1::jsonb, 'old', $2)`, [JSON.stringify(input), AT]);
      await adminQuery(`INSERT INTO "${schema}".tickwork_run_request (code, key, requested_at) VALUES ('report', 'tenant-1', $1)`, [AT]);
    };
    const store = await upgrade(pgOptions(schema), seed, undo);
    const functions = await adminQuery<{ proname: string; prosrc: string }>(
      `SELECT proname, prosrc FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY proname`,
      [schema],
    );
    expect(functions.map((f) => f.proname)).toEqual([
      'tickwork_claim_overdue',
      'tickwork_claim_slots',
      'tickwork_claim_slots_passed',
      'tickwork_complete_runs',
      'tickwork_finish_state',
      'tickwork_interrupt',
      'tickwork_lease_partitions',
      'tickwork_lease_partitions_limited',
      'tickwork_partition_of',
      'tickwork_reap_dead_runners',
      'tickwork_reap_expired',
      'tickwork_remove_schedules',
      'tickwork_run_drop_partitions',
      'tickwork_run_ensure_partition',
      'tickwork_run_partitions_ahead',
      'tickwork_runner_connected',
      'tickwork_schedule_part',
      'tickwork_state_finished',
      'tickwork_upsert_schedules',
    ]);
    expect(functions.find((f) => f.proname === 'tickwork_claim_slots')?.prosrc).toContain(`'unscheduled'`);
    // Removing it then deletes the state and the request left from before.
    expect(await store.removeSchedules([TENANT])).toEqual([true]);
    expect(await store.getStates([TENANT])).toEqual([]);
    expect(await store.pendingRunRequests()).toEqual([]);
  });

  it('on SQLite: the same, on a file', async () => {
    const temp = tempSqliteFile();
    undo.push(async () => temp.remove());
    await migrateFirstOnly({ driver: LibSqlDriver, dbName: temp.file } as Options, 'sqlite', '');
    const seed = async () => {
      const at = AT.getTime();
      rawSqlite(
        temp.file,
        `INSERT INTO tickwork_job_state (code, key, token, total_runs, created_at, updated_at) VALUES ('billing', '', 1, 1, ${at}, ${at}), ('report', 'tenant-1', 1, 1, ${at}, ${at})`,
        `INSERT INTO tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, lease_expires_at)
           VALUES ('billing', '', ${at}, 1, 'schedule', 'running', 'old', 1, ${at}, ${at + 60_000}), ('report', 'tenant-1', ${at}, 1, 'schedule', 'running', 'old', 1, ${at}, ${at + 60_000})`,
        `INSERT INTO tickwork_run_request (code, key, requested_at) VALUES ('report', 'tenant-1', ${at})`,
      );
    };
    const store = await upgrade({ driver: 'sqlite', dbName: temp.file }, seed, undo);
    expect(await store.removeSchedules([TENANT])).toEqual([true]);
    expect(await store.getStates([TENANT])).toEqual([]);
    expect(await store.pendingRunRequests()).toEqual([]);
  });

  it('an upgrade that fails halfway leaves the previous schema as it was (PostgreSQL)', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrateFirstOnly({ driver: PostgreSqlDriver, clientUrl: PG_URL, schema } as Options, 'postgresql', schema);
    // A table in the way of the migration's second CREATE TABLE, after the first one ran.
    await adminQuery(`CREATE TABLE "${schema}".tickwork_schedule_counter (x int)`);
    await expect(migrate(pgOptions(schema))).rejects.toThrow(/\[tickwork\] \[store-sql\] migrate: .* rolled back/);
    const tables = await adminQuery<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [schema],
    );
    expect(tables.map((r) => r.table_name)).not.toContain('tickwork_schedule');
    expect((await adminQuery<{ name: string }>(`SELECT name FROM "${schema}".tickwork_migrations`)).map((r) => r.name)).toEqual([
      MIGRATION_NAMES[0],
    ]);
    const functions = await adminQuery<{ prosrc: string }>(
      `SELECT prosrc FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname = 'tickwork_claim_slots'`,
      [schema],
    );
    expect(functions[0]?.prosrc).not.toContain('unscheduled');
  });
});
