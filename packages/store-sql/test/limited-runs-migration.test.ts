/**
 * The upgrade to limited runs (fifth migration) of a populated database of the previous
 * release: every row survives as it was (the new counter at 0: schedules count from the
 * upgrade), a claim as the previous release makes it (no max_runs) still works on the new
 * schema and is counted (an expand), and the upgraded store ends a limited schedule.
 */
import { claimFor as claim } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED } from '../src/migrate.js';
import { adminQuery, pgOptions, randomSchema, rawSqlite, tempSqliteFile } from './fixtures.js';
import { DEAD_MAN_DEFAULTS } from './old-schema.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const minute = (n: number) => new Date(AT.getTime() + n * 60_000);
const BILLING = { code: 'billing', key: '' };
const LIMITED = MIGRATION_NAMES.indexOf('Migration20261203010000_tickwork_limited_runs');
const PREVIOUS = SHIPPED.slice(0, LIMITED);

/** A claim as the previous release sends it to `tickwork_claim_slots` (no max_runs). */
const oldClaim = (slot: Date, ord = 0) => ({
  ord,
  code: BILLING.code,
  key: '',
  slot_at: slot.toISOString(),
  attempt: 1,
  trigger: 'schedule',
  overlap: 'allowAll',
  backfill: false,
  request_id: null,
  lease_ms: 60_000,
  schedule_version: null,
});

interface Dialect {
  name: string;
  setUp(undo: (() => Promise<unknown>)[]): Promise<{
    options: SqlStoreOptions;
    /** Seeds the previous release's schema with billing's state and three runs. */
    seed(): Promise<void>;
    rows(table: 'tickwork_job_state' | 'tickwork_run'): Promise<Record<string, unknown>[]>;
    /** The counter as a stored number. */
    zero: unknown;
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
        // Through the previous release's own claim function, as its runners left the rows.
        seed: async () => {
          await adminQuery(`SELECT * FROM "${schema}".tickwork_claim_slots($1::jsonb, 'old', $2)`, [
            JSON.stringify([oldClaim(minute(0), 0), oldClaim(minute(1), 1), oldClaim(minute(2), 2)]),
            minute(2),
          ]);
        },
        rows: (table) => adminQuery(`SELECT * FROM "${schema}".${table} ORDER BY 1, 2, 3`),
        zero: '0', // bigint, as pg returns it
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
        seed: async () => {
          const ms = (n: number) => minute(n).getTime();
          rawSqlite(
            temp.file,
            `INSERT INTO tickwork_job_state (code, key, last_slot_at, total_runs, token, created_at, updated_at) VALUES ('billing', '', ${ms(2)}, 3, 3, ${ms(0)}, ${ms(2)})`,
            ...[0, 1, 2].map(
              (
                n,
              ) => `INSERT INTO tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, lease_expires_at)
                VALUES ('billing', '', ${ms(n)}, 1, 'schedule', 'running', 'old', ${n + 1}, ${ms(2)}, ${ms(3)})`,
            ),
          );
        },
        rows: async (table) => rawSqlite(temp.file, `SELECT * FROM ${table} ORDER BY 1, 2, 3`),
        zero: 0,
      };
    },
  },
];

describe.each(DIALECTS)('the upgrade to limited runs on $name', ({ setUp }) => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (undo.length > 0) await undo.pop()!();
  });

  it('keeps every row, starts the counter at 0, and the upgraded store ends a limited schedule', async () => {
    const { options, seed, rows, zero } = await setUp(undo);
    await migrateWith(options, PREVIOUS);
    await seed();
    const states = await rows('tickwork_job_state');
    const runs = await rows('tickwork_run');
    expect(states).toHaveLength(1);
    expect(runs).toHaveLength(3);

    expect(await migrate(options)).toEqual({ applied: MIGRATION_NAMES.slice(LIMITED), current: [...MIGRATION_NAMES] });
    // The skip-reasons and dead-man migrations after this one add empty columns of their own.
    expect(await rows('tickwork_job_state')).toEqual(
      states.map((row) => ({ ...row, scheduled_runs: zero, last_skip_reason: null, last_skipped_slot_at: null, ...DEAD_MAN_DEFAULTS })),
    );
    expect(await rows('tickwork_run')).toEqual(runs.map((row) => ({ ...row, skip_reason: null, slot_count: 1, range_last_slot_at: null })));

    const store = createSqlStore(options);
    undo.push(() => store.close());
    // Runs from before the upgrade are not counted (the log may have been pruned): two more may start.
    const limited = (n: number) => claim(BILLING, minute(n), { maxRuns: 2, overlap: 'allowAll' });
    const outcomes = await store.claimSlots([limited(3), limited(4), limited(5)], { runnerId: 'new', now: minute(5) });
    expect(outcomes.map((o) => o.status)).toEqual(['claimed', 'claimed', 'ended']);
    expect((await store.getStates([BILLING]))[0]).toMatchObject({ totalRuns: 5, scheduledRuns: 2 });
  });
});

describe('a runner of the previous release on the upgraded PostgreSQL schema', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (undo.length > 0) await undo.pop()!();
  });

  it('claims as before (its claims carry no max_runs, so nothing ends) and its scheduled runs are counted', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrate(pgOptions(schema));
    const answer = (slots: number[]) =>
      adminQuery<{ outcome: string }>(`SELECT outcome FROM "${schema}".tickwork_claim_slots($1::jsonb, 'old', $2) ORDER BY ord`, [
        JSON.stringify(slots.map((n, ord) => oldClaim(minute(n), ord))),
        minute(9),
      ]);
    expect((await answer([0, 1, 2])).map((r) => r.outcome)).toEqual(['claimed', 'claimed', 'claimed']);
    const store = createSqlStore(pgOptions(schema));
    undo.push(() => store.close());
    expect((await store.getStates([BILLING]))[0]?.scheduledRuns).toBe(3);
    // A new runner with maxRuns 3 sees the limit reached by the old runner's runs.
    expect(await store.claimSlots([claim(BILLING, minute(3), { maxRuns: 3 })], { runnerId: 'new', now: minute(9) })).toEqual([
      { status: 'ended' },
    ]);
  });
});
