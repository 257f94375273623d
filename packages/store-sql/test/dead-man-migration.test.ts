/**
 * The upgrade to the dead-man schema (#20: onRecovery and dead-man alerts) of a populated
 * database of the schema before it: every state and run survives with the new columns at their
 * defaults, a streak that began before the upgrade ends with its failures counted (its start
 * unknown: null), claimOverdue works on the upgraded rows, and (an expand) on PostgreSQL the
 * previous release's completion function, unchanged, keeps the new columns through the trigger.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED } from '../src/migrate.js';
import { adminQuery, pgOptions, randomSchema, rawSqlite, tempSqliteFile } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const at = (minutes: number) => new Date(AT.getTime() + minutes * 60_000);
const JOB = { code: 'billing', key: '' };
const IDLE = { code: 'idle', key: '' };
const DEAD_MAN = 'Migration20261203040000_tickwork_dead_man';
const BEFORE = SHIPPED.findIndex((m) => m.info.name === DEAD_MAN);
const NEW_COLUMNS = {
  failing_since: null,
  last_succeeded_at: null,
  ended_streak: 0,
  ended_streak_started_at: null,
  expect_success_within_ms: null,
  overdue_alerted_at: null,
  ended_overdue_alerted_at: null,
};

/** The columns of `before`'s rows, plus the new ones, read from `after` (later migrations may add more). */
function upgradedView(after: Record<string, unknown>[], before: Record<string, unknown>[]) {
  const keys = [...Object.keys(before[0] ?? {}), ...Object.keys(NEW_COLUMNS)];
  return after.map((row) => Object.fromEntries(keys.map((k) => [k, row[k]])));
}

/** The checks on an upgraded database: billing failed twice (the second run still running at AT), idle never ran. */
async function checkUpgraded(
  options: SqlStoreOptions,
  states: () => Promise<Record<string, unknown>[]>,
  runs: () => Promise<Record<string, unknown>[]>,
  undo: (() => Promise<unknown>)[],
) {
  const statesBefore = await states();
  const runsBefore = await runs();
  expect(statesBefore).toHaveLength(2);
  const result = await migrate(options);
  expect(result.applied).toContain(DEAD_MAN);
  expect(result.current).toEqual([...MIGRATION_NAMES]);
  const statesAfter = await states();
  expect(upgradedView(statesAfter, statesBefore)).toEqual(statesBefore.map((row) => ({ ...row, ...NEW_COLUMNS })));
  const runsAfter = await runs();
  expect(upgradedView(runsAfter, runsBefore).map((row) => Object.fromEntries(Object.keys(runsBefore[0]!).map((k) => [k, row[k]])))).toEqual(
    runsBefore,
  );

  const store = createSqlStore(options);
  undo.push(() => store.close());
  // The run started before the upgrade completes as a success: the streak of 2 it ends is reported, its start unknown.
  const [old] = (await store.queryRuns({ status: 'running' })).runs;
  const lease = { ...JOB, runId: old!.id, token: old!.token, runnerId: 'old', expiresAt: old!.leaseExpiresAt!, cancelRequested: false };
  const [done] = await store.completeRuns([{ lease, status: 'succeeded', finishedAt: at(3) }]);
  expect(done?.status).toBe('completed');
  const state = done?.status === 'completed' ? done.state : null;
  expect(state).toMatchObject({ consecutiveFailures: 0, endedStreak: 2, endedStreakStartedAt: null, lastSucceededAt: at(3) });
  // Dead-man windows on the upgraded rows: idle (created at AT, never ran) is overdue after an hour, billing is not.
  const windows = [
    { ...JOB, expectSuccessWithinMs: 3_600_000 },
    { ...IDLE, expectSuccessWithinMs: 3_600_000 },
  ];
  expect((await store.claimOverdue({ now: at(60), windows })).map((s) => s.code)).toEqual(['idle']);
  expect(await store.claimOverdue({ now: at(61) })).toEqual([]);
  return store;
}

describe('a populated database migrates to the dead-man schema', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it("on PostgreSQL; the previous release's completion function still answers and keeps the new columns", async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    const options = pgOptions(schema);
    await migrateWith(options, SHIPPED.slice(0, BEFORE));
    const ts = (minutes: number) => `'${at(minutes).toISOString()}'::timestamptz`;
    await adminQuery(
      `INSERT INTO ${s}.tickwork_job_state (code, key, last_slot_at, last_status, last_finished_at, last_attempt, last_finished_slot_at, consecutive_failures, total_runs, token, created_at, updated_at)
       VALUES ('billing', '', ${ts(0)}, 'failed', ${ts(-1)}, 1, ${ts(-2)}, 2, 3, 3, ${ts(-10)}, ${ts(0)}), ('idle', '', NULL, NULL, NULL, NULL, NULL, 0, 0, 0, ${ts(0)}, ${ts(0)})`,
    );
    await adminQuery(
      `INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, lease_expires_at)
       VALUES ('billing', '', ${ts(0)}, 1, 'schedule', 'running', 'old', 3, ${ts(0)}, ${ts(60)})`,
    );
    const states = () => adminQuery(`SELECT * FROM ${s}.tickwork_job_state ORDER BY code, key`);
    const runs = () => adminQuery(`SELECT * FROM ${s}.tickwork_run ORDER BY id`);
    const store = await checkUpgraded(options, states, runs, undo);
    // An older release (no dead-man code) records a failure through the function it always called: the trigger keeps the streak.
    const [claim] = await store.claimSlots(
      [{ ...JOB, slotAt: at(70), attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 }],
      { runnerId: 'old', now: at(70) },
    );
    if (claim?.status !== 'claimed') throw new Error(`expected a claim, got ${claim?.status}`);
    const [completed] = await adminQuery<{ outcome: string; state: Record<string, unknown> }>(
      `SELECT * FROM ${s}.tickwork_complete_runs($1::jsonb)`,
      [
        JSON.stringify([
          {
            ord: 0,
            ...JOB,
            id: Number(claim.run.id),
            token: claim.lease.token,
            status: 'failed',
            finished_at: at(71).toISOString(),
            message: null,
            error: 'boom',
            stack: null,
          },
        ]),
      ],
    );
    expect(completed?.outcome).toBe('completed');
    expect((await store.getStates([JOB]))[0]).toMatchObject({
      consecutiveFailures: 1,
      failingSince: at(71),
      endedStreak: 0,
      lastSucceededAt: at(3),
    });
  });

  it('on SQLite, seeded with the rows the previous version wrote', async () => {
    const temp = tempSqliteFile();
    undo.push(async () => temp.remove());
    const options: SqlStoreOptions = { driver: 'sqlite', dbName: temp.file };
    await migrateWith(options, SHIPPED.slice(0, BEFORE));
    const t = (minutes: number) => at(minutes).getTime();
    rawSqlite(
      temp.file,
      `INSERT INTO tickwork_job_state (code, key, last_slot_at, last_status, last_finished_at, last_attempt, last_finished_slot_at, consecutive_failures, total_runs, token, created_at, updated_at)
       VALUES ('billing', '', ${t(0)}, 'failed', ${t(-1)}, 1, ${t(-2)}, 2, 3, 3, ${t(-10)}, ${t(0)}), ('idle', '', NULL, NULL, NULL, NULL, NULL, 0, 0, 0, ${t(0)}, ${t(0)})`,
      `INSERT INTO tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, lease_expires_at) VALUES ('billing', '', ${t(0)}, 1, 'schedule', 'running', 'old', 3, ${t(0)}, ${t(60)})`,
    );
    await checkUpgraded(
      options,
      async () => rawSqlite(temp.file, 'SELECT * FROM tickwork_job_state ORDER BY code, key'),
      async () => rawSqlite(temp.file, 'SELECT * FROM tickwork_run ORDER BY id'),
      undo,
    );
  });
});
