/**
 * The upgrade to the skipped-slots schema (ninth migration, #20) of a populated database of the
 * exactly-once schema: every row survives with the new columns at their defaults, an overlap
 * skip written before reads as reason `overlap`, the upgraded store records passed ranges, and
 * (an expand) the previous claim function still answers on PostgreSQL.
 */
import { claimFor as claim } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED } from '../src/migrate.js';
import { adminQuery, pgOptions, randomSchema, rawSqlite, tempSqliteFile } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const at = (minutes: number) => new Date(AT.getTime() + minutes * 60_000);
const JOB = { code: 'billing', key: '' };
const SKIPPED_SLOTS = 'Migration20261203020000_tickwork_skipped_slots';

/** The checks on an upgraded database whose billing schedule has a running run at AT (runner "old") and an overlap skip at at(1). */
async function checkUpgraded(options: SqlStoreOptions, rows: () => Promise<Record<string, unknown>[]>, undo: (() => Promise<unknown>)[]) {
  const before = await rows();
  expect(before).toHaveLength(2);
  expect(await migrate(options)).toEqual({ applied: MIGRATION_NAMES.slice(4), current: [...MIGRATION_NAMES] });
  expect(MIGRATION_NAMES).toContain(SKIPPED_SLOTS);
  const after = await rows();
  expect(after).toEqual(before.map((row) => ({ ...row, skip_reason: null, slot_count: 1, range_last_slot_at: null })));
  const store = createSqlStore(options);
  undo.push(() => store.close());
  const skipped = (await store.queryRuns({ reason: 'overlap' })).runs;
  expect(skipped).toMatchObject([{ slotAt: at(1), attempt: 1, status: 'skipped', skipReason: 'overlap', slotCount: 1 }]);
  // The old run still completes; the next claim passes over 2–9 and records them as one range.
  const [old] = (await store.queryRuns({ status: 'running' })).runs;
  const lease = { ...JOB, runId: old!.id, token: old!.token, runnerId: 'old', expiresAt: old!.leaseExpiresAt!, cancelRequested: false };
  expect((await store.completeRuns([{ lease, status: 'succeeded', finishedAt: at(1) }]))[0]?.status).toBe('completed');
  const range = { firstSlotAt: at(2), lastSlotAt: at(9), count: 8, reason: 'missed-run-policy' as const, message: 'skipped 8 slots' };
  const [next] = await store.claimSlots([claim(JOB, at(10), { passed: { after: at(1), ranges: [range] } })], {
    runnerId: 'new',
    now: at(10),
  });
  expect(next?.status).toBe('claimed');
  expect((await store.queryRuns({ reason: 'missed-run-policy' })).runs).toMatchObject([
    { attempt: 0, slotAt: at(2), rangeLastSlotAt: at(9), slotCount: 8 },
  ]);
  expect((await store.getStates([JOB]))[0]).toMatchObject({ lastSkipReason: 'missed-run-policy', lastSkippedSlotAt: at(9) });
}

describe('a populated database of the exactly-once schema migrates to the skipped-slots schema', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it('on PostgreSQL, seeded through the previous claim function, which still answers after the upgrade', async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    const options = pgOptions(schema);
    await migrateWith(options, SHIPPED.slice(0, 4));
    const oldClaim = (slot: Date) =>
      adminQuery<{ outcome: string }>(`SELECT * FROM ${s}.tickwork_claim_slots($1::jsonb, 'old', $2)`, [
        JSON.stringify([
          {
            ord: 0,
            ...JOB,
            slot_at: slot.toISOString(),
            attempt: 1,
            trigger: 'schedule',
            overlap: 'skip',
            backfill: false,
            request_id: null,
            lease_ms: 3_600_000,
            schedule_version: null,
          },
        ]),
        slot,
      ]);
    expect((await oldClaim(AT))[0]?.outcome).toBe('claimed');
    expect((await oldClaim(at(1)))[0]?.outcome).toBe('overlap');
    const rows = () => adminQuery(`SELECT * FROM ${s}.tickwork_run ORDER BY id`);
    await checkUpgraded(options, rows, undo);
    // An older release's claim after the upgrade: answered by the unchanged function.
    expect((await oldClaim(at(10.5)))[0]?.outcome).toBe('overlap');
  });

  it('on SQLite, seeded with the rows the previous version wrote', async () => {
    const temp = tempSqliteFile();
    undo.push(async () => temp.remove());
    const options: SqlStoreOptions = { driver: 'sqlite', dbName: temp.file };
    await migrateWith(options, SHIPPED.slice(0, 4));
    const t = (minutes: number) => at(minutes).getTime();
    await rawSqlite(
      temp.file,
      `INSERT INTO tickwork_job_state (code, key, last_slot_at, total_runs, token, created_at, updated_at) VALUES ('billing', '', ${t(1)}, 1, 1, ${t(0)}, ${t(1)})`,
      `INSERT INTO tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, lease_expires_at) VALUES ('billing', '', ${t(0)}, 1, 'schedule', 'running', 'old', 1, ${t(0)}, ${t(60)})`,
      `INSERT INTO tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms, message) VALUES ('billing', '', ${t(1)}, 1, 'schedule', 'skipped', 'old', 0, ${t(1)}, ${t(1)}, 0, 'skipped: run 1 still holds the lease (overlap policy skip)')`,
    );
    await checkUpgraded(options, async () => rawSqlite(temp.file, 'SELECT * FROM tickwork_run ORDER BY id'), undo);
  });
});
