/**
 * The upgrade to the exactly-once schema (third migration) of a populated database of the
 * previous version: every row survives as it was (new columns at their defaults), and the
 * upgraded store claims old requests by id, completes the old version's running runs,
 * reaps them with their state, keeps old slots taken, queues waiting runs, and never hands
 * out an id the old version used (on SQLite, whose run table is rebuilt, not even a pruned one).
 */
import type { Options } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LibSqlDriver } from '@mikro-orm/libsql';
import { StoreSchemaError, type Store } from '@tickwork/core';
import { checkScheduleInputs, partitionOf, type Lease } from '@tickwork/core/store';
import { claimFor as claim } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { adminQuery, PG_URL, pgOptions, randomSchema, rawSqlite, runtimeSchedule, tempSqliteFile } from './fixtures.js';
import { DEAD_MAN_DEFAULTS, migrateEarlier } from './old-schema.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const at = (seconds: number) => new Date(AT.getTime() + seconds * 1000);
const BILLING = { code: 'billing', key: '' };
const TENANT = { code: 'report', key: 'tenant-1' };
const TABLES = ['tickwork_job_state', 'tickwork_run', 'tickwork_run_request', 'tickwork_schedule', 'tickwork_schedule_counter'] as const;
/** What the migration adds to each table's rows, at its defaults. */
const ADDED: Record<(typeof TABLES)[number], (dialect: 'postgresql' | 'sqlite') => Record<string, unknown>> = {
  // scheduled_runs: the limited-runs migration, skip columns: the skipped-slots one (#20), applied by the
  // same migrate() call (bigint as text on PostgreSQL).
  tickwork_job_state: (dialect) => ({
    waiting_slot_at: null,
    scheduled_runs: dialect === 'postgresql' ? '0' : 0,
    last_skip_reason: null,
    last_skipped_slot_at: null,
    ...DEAD_MAN_DEFAULTS,
  }),
  tickwork_run: (dialect) => ({
    request_id: null,
    cancel_requested: dialect === 'postgresql' ? false : 0,
    skip_reason: null,
    slot_count: 1,
    range_last_slot_at: null,
  }),
  tickwork_run_request: () => ({}),
  // The stored partition (#23) of the one schedule, tenant-1 of report.
  tickwork_schedule: () => ({ part: partitionOf(TENANT.code, TENANT.key) }),
  tickwork_schedule_counter: () => ({}),
};

/** What the seed left, as the checks below need it. */
interface Seeded {
  /** The running run of billing's slot at(60), claimed by runner "old" (lease until at(120)). */
  running: { id: string; token: number };
  /** The highest run id the old version handed out (that run was pruned). */
  prunedId: number;
  /** The two requests of billing still pending, both filed at at(70). */
  pending: [string, string];
}

/**
 * The upgraded store against what the seed left: the same rows plus the new columns, and the
 * new contract working on old data.
 */
async function checkUpgrade(
  options: SqlStoreOptions,
  dialect: 'postgresql' | 'sqlite',
  snapshot: () => Promise<Record<string, Record<string, unknown>[]>>,
  seeded: Seeded,
  undo: (() => Promise<unknown>)[],
): Promise<Store> {
  const store = createSqlStore(options);
  undo.push(() => store.close());
  const refused = await store.getStates().catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(StoreSchemaError);
  expect((refused as Error).message).toMatch(
    /missing migrations \(Migration20261201000000_tickwork_exactly_once(, \w+)*\); run `tickwork migrate`/,
  );

  const before = await snapshot();
  expect(before.tickwork_run!.length).toBeGreaterThanOrEqual(5);
  expect(await migrate(options)).toEqual({ applied: MIGRATION_NAMES.slice(2), current: [...MIGRATION_NAMES] });
  const after = await snapshot();
  for (const table of TABLES) {
    expect({ table, rows: after[table] }).toEqual({ table, rows: before[table]!.map((row) => ({ ...row, ...ADDED[table](dialect) })) });
  }

  // A slot the old version claimed is still taken; its running run completes past its lease's expiry (nobody took it over).
  expect(await store.claimSlots([claim(BILLING, AT)], { runnerId: 'new', now: at(100) })).toEqual([{ status: 'taken' }]);
  const [old] = await store.queryRuns({ code: 'billing', status: 'running' }).then((p) => p.runs);
  expect(old).toMatchObject({ id: seeded.running.id, runnerId: 'old', requestId: null, cancelRequested: false });
  // While it runs, a run-now request under bufferOne is busy and stays pending.
  const requestClaim = (id: string) => claim(BILLING, at(70), { trigger: 'manual', requestId: id, overlap: 'bufferOne' });
  expect(await store.claimSlots([requestClaim(seeded.pending[0])], { runnerId: 'new', now: at(100) })).toEqual([{ status: 'busy' }]);
  const lease: Lease = {
    ...BILLING,
    runId: old!.id,
    token: old!.token,
    runnerId: 'old',
    expiresAt: old!.leaseExpiresAt!,
    cancelRequested: false,
  };
  const [done] = await store.completeRuns([{ lease, status: 'succeeded', finishedAt: at(140) }]);
  expect(done).toMatchObject({
    status: 'completed',
    run: { status: 'succeeded' },
    state: { lastStatus: 'succeeded', waitingSlotAt: null },
  });

  // The two old requests of one second each run once, by id, in turn; new ids are above every id the old version used.
  const [first, meanwhile] = await store.claimSlots([requestClaim(seeded.pending[0]), requestClaim(seeded.pending[1])], {
    runnerId: 'new',
    now: at(141),
  });
  if (first?.status !== 'claimed') throw new Error(`expected claimed, got ${first?.status}`);
  expect(meanwhile).toEqual({ status: 'busy' });
  expect(first.run).toMatchObject({ trigger: 'manual', requestId: seeded.pending[0] });
  expect(Number(first.run.id)).toBeGreaterThan(seeded.prunedId);
  expect(first.run.token).toBeGreaterThan(seeded.running.token);
  expect((await store.pendingRunRequests({ refs: [BILLING] })).map((r) => r.id)).toEqual([seeded.pending[1]]);
  await store.completeRuns([{ lease: first.lease, status: 'succeeded', finishedAt: at(142) }]);
  const [second] = await store.claimSlots([requestClaim(seeded.pending[1])], { runnerId: 'new', now: at(143) });
  expect(second).toMatchObject({ status: 'claimed', run: { requestId: seeded.pending[1] } });
  expect(await store.pendingRunRequests()).toEqual([]);

  // A slot due while that run holds its lease waits under bufferAll, visibly in the state.
  const [queued] = await store.claimSlots([claim(BILLING, at(180), { overlap: 'bufferAll' })], { runnerId: 'new', now: at(180) });
  expect(queued).toMatchObject({ status: 'waiting', run: { status: 'waiting', token: 0 } });
  expect((await store.getStates([BILLING]))[0]?.waitingSlotAt).toEqual(at(180));

  // The old version's other running runs (leases until at(60) and at(125)) are reaped once, oldest expiry first, with their states.
  const reaped = await store.reapExpired({ now: at(200) });
  expect(reaped.map((r) => [r.run.code, r.run.runnerId, r.run.status, r.state?.consecutiveFailures])).toEqual([
    ['report', 'old', 'interrupted', 1],
    ['manual-only', 'old', 'interrupted', 1],
  ]);
  expect(await store.reapExpired({ now: at(200) })).toEqual([]);
  return store;
}

describe('a populated database of the runtime-schedules version migrates to the exactly-once schema', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it('on PostgreSQL, seeded through the previous version’s own functions', async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    await migrateEarlier(2, { driver: PostgreSqlDriver, clientUrl: PG_URL, schema } as Options, 'postgresql', schema);

    const { definitions } = checkScheduleInputs([runtimeSchedule(TENANT)], 'seed');
    await adminQuery(`SELECT * FROM ${s}.tickwork_upsert_schedules($1::jsonb, $2, 'seed')`, [
      JSON.stringify([{ ord: 0, ...TENANT, definition: definitions[0], enabled: true }]),
      AT,
    ]);
    type OldOutcome = { ord: number; outcome: string; run: { id: number; token: number } | null };
    const oldClaim = async (items: { ref: typeof BILLING; slot: Date; trigger?: string }[], now: Date) =>
      adminQuery<OldOutcome>(`SELECT * FROM ${s}.tickwork_claim_slots($1::jsonb, 'old', $2)`, [
        JSON.stringify(
          items.map(({ ref, slot, trigger }, ord) => ({
            ord,
            ...ref,
            slot_at: slot.toISOString(),
            attempt: 1,
            trigger: trigger ?? 'schedule',
            allow_parallel: false,
            lease_ms: 60_000,
          })),
        ),
        now,
      ]);
    const oldComplete = (run: { id: number; token: number }, ref: typeof BILLING, finishedAt: Date) =>
      adminQuery(`SELECT * FROM ${s}.tickwork_complete_runs($1::jsonb)`, [
        JSON.stringify([
          {
            ord: 0,
            id: run.id,
            token: run.token,
            ...ref,
            status: 'succeeded',
            finished_at: finishedAt.toISOString(),
            message: 'ok',
            error: null,
            stack: null,
          },
        ]),
      ]);
    const [billing0] = await oldClaim(
      [
        { ref: BILLING, slot: AT },
        { ref: TENANT, slot: AT },
      ],
      AT,
    );
    await oldComplete(billing0!.run!, BILLING, at(1));
    const [running] = await oldClaim([{ ref: BILLING, slot: at(60) }], at(60));
    expect((await oldClaim([{ ref: BILLING, slot: at(120) }], at(61)))[0]?.outcome).toBe('overlap');
    // The old run-now flow: a request consumed, then claimed as a manual run of its second; two more pending in one second.
    await adminQuery(
      `INSERT INTO ${s}.tickwork_run_request (code, key, requested_at, requested_by, consumed_at) VALUES ('billing', '', $1, 'ops', $1)`,
      [at(65)],
    );
    await oldClaim([{ ref: { code: 'manual-only', key: '' }, slot: at(65), trigger: 'manual' }], at(65));
    const pending = await adminQuery<{ id: string }>(
      `INSERT INTO ${s}.tickwork_run_request (code, key, requested_at, requested_by) VALUES ('billing', '', $1, 'a'), ('billing', '', $1, 'b') RETURNING id`,
      [at(70)],
    );
    // A run pruned by retention: its id is never handed out again.
    const [gap] = await oldClaim([{ ref: { code: 'pruned', key: '' }, slot: at(66) }], at(66));
    await oldComplete(gap!.run!, { code: 'pruned', key: '' }, at(67));
    await adminQuery(`DELETE FROM ${s}.tickwork_run WHERE id = $1`, [gap!.run!.id]);

    const snapshot = async () => {
      const out: Record<string, Record<string, unknown>[]> = {};
      for (const table of TABLES) out[table] = await adminQuery(`SELECT * FROM ${s}.${table} ORDER BY 1, 2`);
      return out;
    };
    const store = await checkUpgrade(
      pgOptions(schema),
      'postgresql',
      snapshot,
      {
        running: { id: String(running!.run!.id), token: running!.run!.token },
        prunedId: gap!.run!.id,
        pending: [pending[0]!.id, pending[1]!.id],
      },
      undo,
    );
    // Removing the runtime schedule still removes its state (and would remove its waiting runs and pending requests).
    expect(await store.removeSchedules([TENANT])).toEqual([true]);
    expect(await store.getStates([TENANT])).toEqual([]);
  });

  it('on SQLite, whose run table is rebuilt, seeded with the rows the previous version wrote', async () => {
    const temp = tempSqliteFile();
    undo.push(async () => temp.remove());
    await migrateEarlier(2, { driver: LibSqlDriver, dbName: temp.file } as Options, 'sqlite', '');
    // One statement per line end with ';' (the seed below), each run on its own.
    const exec = async (sql: string) =>
      void rawSqlite(
        temp.file,
        ...sql
          .split(/;\s*\n/)
          .map((x) => x.trim())
          .filter((x) => x !== ''),
      );
    const all = async (sql: string) => rawSqlite(temp.file, sql);
    const t = (seconds: number) => at(seconds).getTime();
    const { definitions } = checkScheduleInputs([runtimeSchedule(TENANT)], 'seed');
    await exec(`
      INSERT INTO tickwork_schedule (code, key, definition, enabled, version, created_at, updated_at) VALUES ('report', 'tenant-1', '${definitions[0]!.replaceAll("'", "''")}', 1, 1, ${t(0)}, ${t(0)});
      UPDATE tickwork_schedule_counter SET last_version = 1;
      INSERT INTO tickwork_job_state (code, key, last_slot_at, last_status, last_finished_at, last_attempt, last_finished_slot_at, total_runs, token, created_at, updated_at)
        VALUES ('billing', '', ${t(120)}, 'succeeded', ${t(1)}, 1, ${t(0)}, 2, 3, ${t(0)}, ${t(61)}),
               ('report', 'tenant-1', ${t(0)}, NULL, NULL, NULL, NULL, 1, 1, ${t(0)}, ${t(0)}),
               ('manual-only', '', NULL, NULL, NULL, NULL, NULL, 1, 1, ${t(65)}, ${t(65)});
      INSERT INTO tickwork_run (id, code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms, lease_expires_at, message) VALUES
        (1, 'billing', '', ${t(0)}, 1, 'schedule', 'succeeded', 'old', 1, ${t(0)}, ${t(1)}, 1000, NULL, 'ok'),
        (2, 'report', 'tenant-1', ${t(0)}, 1, 'schedule', 'running', 'old', 1, ${t(0)}, NULL, NULL, ${t(60)}, NULL),
        (3, 'billing', '', ${t(60)}, 1, 'schedule', 'running', 'old', 2, ${t(60)}, NULL, NULL, ${t(120)}, NULL),
        (4, 'billing', '', ${t(120)}, 1, 'schedule', 'skipped', 'old', 3, ${t(120)}, ${t(120)}, 0, NULL, 'skipped: run 3 of this schedule still holds its lease and parallel runs are not allowed'),
        (5, 'manual-only', '', ${t(65)}, 1, 'manual', 'running', 'old', 1, ${t(65)}, NULL, NULL, ${t(125)}, NULL),
        (6, 'pruned', '', ${t(66)}, 1, 'schedule', 'succeeded', 'old', 1, ${t(66)}, ${t(67)}, 1000, NULL, 'ok');
      DELETE FROM tickwork_run WHERE id = 6;
      INSERT INTO tickwork_run_request (id, code, key, requested_at, requested_by, consumed_at) VALUES
        (1, 'billing', '', ${t(65)}, 'ops', ${t(65)}), (2, 'billing', '', ${t(70)}, 'a', NULL), (3, 'billing', '', ${t(70)}, 'b', NULL);
    `);
    expect(await all(`SELECT seq FROM sqlite_sequence WHERE name = 'tickwork_run'`)).toEqual([{ seq: 6 }]);
    const snapshot = async () => {
      const out: Record<string, Record<string, unknown>[]> = {};
      for (const table of TABLES) out[table] = await all(`SELECT * FROM ${table} ORDER BY 1, 2`);
      return out;
    };
    await checkUpgrade(
      { driver: 'sqlite', dbName: temp.file },
      'sqlite',
      snapshot,
      { running: { id: '3', token: 2 }, prunedId: 6, pending: ['2', '3'] },
      undo,
    );
    // The rebuilt table kept every index (and the old slot uniqueness for runs without a request), except the lease
    // index, which the ninth migration (HOT renewals) drops on purpose.
    const indexes = await all(
      `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickwork_run' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
    );
    expect(indexes.map((r) => r.name)).toEqual([
      'tickwork_run_finished_idx',
      'tickwork_run_request_unique',
      'tickwork_run_running_idx',
      'tickwork_run_schedule_started_idx',
      'tickwork_run_slot_unique',
      'tickwork_run_started_idx',
      'tickwork_run_waiting_idx',
    ]);
  });
});
