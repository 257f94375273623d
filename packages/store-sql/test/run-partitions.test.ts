/**
 * The partitioned run log on PostgreSQL (#23): a populated database of the schema before the
 * migration upgrades in place keeping every run (ids, rows, the identity sequence past them),
 * each row in its month's partition (or the default one), and answers the store's queries as
 * before, index-backed; retention drops whole month partitions whose every run it would delete,
 * deletes rows only where a month still holds a needed run, the boundary month and the default
 * partition, and leaves a partition whose lock it cannot have for the next prune. On SQLite the
 * migration changes nothing. Partition months follow the database's clock (month partitions are
 * calendar months of the server's now()); the retention checks use months far enough back that
 * a month boundary passing during the test changes none of them. Only the checks of this and
 * next month's partitions would see them shift if a test ran across the last midnight of a
 * month (UTC): a calendar edge, not a timing race.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED } from '../src/migrate.js';
import { adminQuery, PG_URL, pgOptions, randomSchema, rawSqlite, tempSqliteFile } from './fixtures.js';

const PARTITIONS = 'Migration20261203060000_tickwork_run_partitions';
const BEFORE = SHIPPED.findIndex((m) => m.info.name === PARTITIONS);

/** The first instant of the month `k` months from the database's current month (UTC). */
async function monthsFromNow(): Promise<(k: number, days?: number) => Date> {
  const [row] = await adminQuery<{ ms: number }>(
    `SELECT extract(epoch FROM date_trunc('month', now() AT TIME ZONE 'UTC'))::float8 * 1000 AS ms`,
  );
  const now = new Date(row!.ms);
  return (k, days = 0) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + k, 1 + days));
}

const partitionOf = (d: Date) => `tickwork_run_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;

interface Seed {
  code: string;
  slot: Date;
  status: 'succeeded' | 'failed' | 'running' | 'waiting' | 'skipped';
  finished?: Date;
  requestId?: number;
}

/** Inserts runs as a runner of the earlier schema would have left them (started at the slot, one minute long). */
async function seedRuns(s: string, seeds: readonly Seed[]): Promise<void> {
  for (const seed of seeds) {
    const running = seed.status === 'running';
    const finished = running || seed.status === 'waiting' ? null : (seed.finished ?? new Date(seed.slot.getTime() + 60_000));
    await adminQuery(
      `INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms, lease_expires_at, request_id)
       VALUES ($1, '', $2, 1, $3, $4, 'old', 1, $2, $5::timestamptz, $6::bigint, $7::timestamptz, $8::bigint)`,
      [
        seed.code,
        seed.slot,
        seed.requestId === undefined ? 'schedule' : 'manual',
        seed.status,
        finished,
        finished === null ? null : finished.getTime() - seed.slot.getTime(),
        running ? new Date(Date.now() + 3_600_000) : null,
        seed.requestId ?? null,
      ],
    );
  }
}

/** Whether each of these queries is answered through an index of every partition it reads (sequential scans disallowed). */
async function plans(sqls: readonly string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const out: string[] = [];
    for (const sql of sqls) {
      const result = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
      out.push(result.rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return out;
  } finally {
    await client.end();
  }
}

describe('the run log partitioned by month on PostgreSQL', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it('a populated database of the previous schema upgrades in place: every run kept, in its partition, queries answered the same', async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    const options = pgOptions(schema);
    await migrateWith(options, SHIPPED.slice(0, BEFORE));
    const month = await monthsFromNow();
    const seeds: Seed[] = [
      { code: 'ancient', slot: new Date(Date.UTC(2015, 5, 1, 12)), status: 'succeeded' },
      { code: 'billing', slot: month(-14, 3), status: 'failed' },
      { code: 'billing', slot: month(-2, 10), status: 'succeeded' },
      { code: 'billing', slot: month(-1, 0), status: 'skipped' },
      { code: 'report', slot: month(-1, 20), status: 'succeeded', requestId: 7 },
      { code: 'billing', slot: month(0, 0), status: 'running' },
      { code: 'billing', slot: month(0, 1), status: 'waiting' },
      { code: 'ahead', slot: month(3, 2), status: 'succeeded' },
    ];
    await seedRuns(s, seeds);
    // An id handed out and gone (its run pruned): the next id must still be past it.
    await seedRuns(s, [{ code: 'gone', slot: month(-1, 5), status: 'succeeded' }]);
    const [gone] = await adminQuery<{ id: string }>(`DELETE FROM ${s}.tickwork_run WHERE code = 'gone' RETURNING id`);
    const rowsBefore = await adminQuery(`SELECT * FROM ${s}.tickwork_run ORDER BY id`);
    expect(rowsBefore).toHaveLength(seeds.length);

    const result = await migrate(options);
    // This migration and every one shipped after it (the store below is the current one).
    expect(result.applied).toEqual(SHIPPED.slice(BEFORE).map((m) => m.info.name));
    expect(await adminQuery(`SELECT * FROM ${s}.tickwork_run ORDER BY id`)).toEqual(rowsBefore);
    const [kind] = await adminQuery<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = '${s}.tickwork_run'::regclass`);
    expect(kind?.relkind).toBe('p');
    // Each run in its month's partition; 2015 (more than 36 months back) and a month not yet created in the default one.
    const placed = await adminQuery<{ code: string; part: string }>(
      `SELECT code, (SELECT c.relname FROM pg_class c WHERE c.oid = r.tableoid) AS part FROM ${s}.tickwork_run r ORDER BY r.id`,
    );
    expect(placed.map((p) => p.part)).toEqual(
      seeds.map((seed) => (seed.code === 'ancient' || seed.code === 'ahead' ? 'tickwork_run_default' : partitionOf(seed.slot))),
    );
    const parts = await adminQuery<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${s}.tickwork_run'::regclass ORDER BY c.relname COLLATE "C"`,
    );
    // The months holding rows (within 36 months), this month and the next, and the default.
    expect(parts.map((p) => p.relname)).toEqual(['tickwork_run_default', ...[-14, -2, -1, 0, 1].map((k) => partitionOf(month(k)))]);

    const store = createSqlStore(options);
    undo.push(() => store.close());
    const all = (await store.queryRuns({ limit: 100 })).runs;
    const byStart = [...rowsBefore].sort(
      (a, b) => (b.started_at as Date).getTime() - (a.started_at as Date).getTime() || Number(b.id) - Number(a.id),
    );
    expect(all.map((r) => r.id)).toEqual(byStart.map((r) => String(r.id)));
    for (const run of all) expect(await store.getRun(run.id)).toEqual(run);
    // Pages of two, a code and a status filter, a time window: the same runs as the rows say.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof store.queryRuns>> = await store.queryRuns({ limit: 2, ...(cursor ? { cursor } : {}) });
      paged.push(...page.runs.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all.map((r) => r.id));
    expect((await store.queryRuns({ code: 'billing' })).runs.map((r) => r.id)).toEqual(
      all.filter((r) => r.code === 'billing').map((r) => r.id),
    );
    expect((await store.queryRuns({ status: 'running' })).runs.map((r) => r.slotAt)).toEqual([month(0, 0)]);
    expect((await store.queryRuns({ since: month(-2), until: month(0) })).runs.map((r) => r.code)).toEqual([
      'report',
      'billing',
      'billing',
    ]);

    // The run that was running completes by its lease; its slot and the other slots stay taken; a new run gets a new id.
    const running = all.find((r) => r.status === 'running')!;
    const lease = {
      code: 'billing',
      key: '',
      runId: running.id,
      token: running.token,
      runnerId: 'old',
      expiresAt: running.leaseExpiresAt!,
      cancelRequested: false,
    };
    const [done] = await store.completeRuns([{ lease, status: 'succeeded', finishedAt: new Date(month(0).getTime() + 120_000) }]);
    expect(done?.status).toBe('completed');
    const claim = (code: string, slotAt: Date) => ({
      code,
      key: '',
      slotAt,
      attempt: 1,
      trigger: 'schedule' as const,
      overlap: 'allowAll' as const,
      leaseMs: 60_000,
    });
    const outcomes = await store.claimSlots(
      [claim('billing', month(-2, 10)), claim('billing', month(0, 0)), claim('ancient', seeds[0]!.slot), claim('billing', month(0, 2))],
      { runnerId: 'new', now: month(0, 2) },
    );
    expect(outcomes.map((o) => o.status)).toEqual(['taken', 'taken', 'taken', 'claimed']);
    const fresh = outcomes[3]!.status === 'claimed' ? outcomes[3]!.run.id : '';
    expect(BigInt(fresh)).toBeGreaterThan(BigInt(gone!.id));
    expect(BigInt(fresh)).toBeGreaterThan(BigInt(rowsBefore[rowsBefore.length - 1]!.id as string));

    // Index-backed: a run by id (getRun, completions, renewals), a slot's run (the claim's lookup: one partition only).
    const [byId, slot, newest] = await plans([
      `SELECT * FROM ${s}.tickwork_run WHERE id = 3`,
      `SELECT * FROM ${s}.tickwork_run x WHERE x.code = 'billing' AND x.key = '' AND x.slot_at = '${month(-2, 10).toISOString()}' AND x.attempt = 1 AND x.request_id IS NULL`,
      `SELECT * FROM ${s}.tickwork_run ORDER BY started_at DESC, id DESC LIMIT 50`,
    ]);
    for (const plan of [byId, slot, newest]) expect(plan).not.toMatch(/Seq Scan/);
    expect(byId).toMatch(/tickwork_run_default_pkey/);
    expect(slot!.match(/on tickwork_run_p\d{6}/g)).toEqual([`on ${partitionOf(month(-2))}`]);
  });

  it('a session of an older release that called the functions before the migration calls them after it (recompiled against the new table)', async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    await migrateWith(pgOptions(schema), SHIPPED.slice(0, BEFORE));
    const month = await monthsFromNow();
    const old = new pg.Client({ connectionString: PG_URL });
    await old.connect();
    undo.push(() => old.end());
    const claimSql = `SELECT ord, outcome, run FROM ${s}.tickwork_claim_slots_passed($1::jsonb, 'old', $2)`;
    const claimOf = (slot: Date) =>
      JSON.stringify([
        {
          ord: 0,
          code: 'a',
          key: '',
          slot_at: slot.toISOString(),
          attempt: 1,
          trigger: 'schedule',
          overlap: 'skip',
          backfill: false,
          request_id: null,
          lease_ms: 60_000,
          schedule_version: null,
          max_runs: null,
        },
      ]);
    const completeSql = `SELECT outcome FROM ${s}.tickwork_complete_runs($1::jsonb)`;
    const completion = (run: { id: number; token: number }, at: Date) =>
      JSON.stringify([
        {
          ord: 0,
          code: 'a',
          key: '',
          id: run.id,
          token: run.token,
          status: 'succeeded',
          finished_at: at.toISOString(),
          message: null,
          error: null,
          stack: null,
        },
      ]);
    // The old session compiles the claim, completion and reap functions (and their row variables) against the old table.
    const first = (await old.query(claimSql, [claimOf(month(0, 1)), month(0, 1)])).rows[0];
    expect(first.outcome).toBe('claimed');
    await old.query(`SELECT * FROM ${s}.tickwork_reap_expired($1, 10)`, [month(0, 1)]);
    await migrate(pgOptions(schema));
    // The same session, after the migration: its run completes, its slot is taken, a new slot is claimed, the reaper works.
    expect((await old.query(completeSql, [completion(first.run, month(0, 2))])).rows[0].outcome).toBe('completed');
    expect((await old.query(claimSql, [claimOf(month(0, 1)), month(0, 3)])).rows[0].outcome).toBe('taken');
    const next = (await old.query(claimSql, [claimOf(month(0, 4)), month(0, 4)])).rows[0];
    expect(next.outcome).toBe('claimed');
    const reaped = (await old.query(`SELECT run FROM ${s}.tickwork_reap_expired($1, 10)`, [month(0, 5)])).rows;
    expect(reaped.map((r) => [r.run.id, r.run.status])).toEqual([[next.run.id, 'interrupted']]);
  });

  it('retention drops whole months, deletes rows only where a month still holds a needed run, and leaves a locked month whole', async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    const options: SqlStoreOptions = pgOptions(schema);
    await migrate(options);
    const month = await monthsFromNow();
    // Rows written first go to the default partition; creating a month's partition moves its rows there.
    await seedRuns(s, [
      { code: 'a', slot: month(-6, 1), status: 'succeeded' },
      { code: 'b', slot: month(-6, 2), status: 'skipped' },
      { code: 'a', slot: month(-5, 1), status: 'succeeded' },
      { code: 'a', slot: month(-5, 2), status: 'running' },
      { code: 'a', slot: month(-4, 1), status: 'failed' },
      { code: 'a', slot: month(-4, 20), status: 'succeeded' },
      // Finished after the retention boundary although its slot is long before it: its month stays (row kept).
      { code: 'c', slot: month(-7, 1), status: 'succeeded', finished: month(-3, 1) },
      { code: 'old', slot: new Date(Date.UTC(2001, 0, 1)), status: 'succeeded' },
    ]);
    for (const k of [-7, -6, -5, -4]) {
      const [made] = await adminQuery<{ made: boolean }>(`SELECT ${s}.tickwork_run_ensure_partition($1) AS made`, [month(k, 3)]);
      expect(made?.made).toBe(true);
    }
    const where = await adminQuery<{ code: string; part: string }>(
      `SELECT code, (SELECT c.relname FROM pg_class c WHERE c.oid = r.tableoid) AS part FROM ${s}.tickwork_run r ORDER BY r.id`,
    );
    expect(where.map((w) => w.part)).toEqual([
      partitionOf(month(-6)),
      partitionOf(month(-6)),
      partitionOf(month(-5)),
      partitionOf(month(-5)),
      partitionOf(month(-4)),
      partitionOf(month(-4)),
      partitionOf(month(-7)),
      'tickwork_run_default',
    ]);

    const store = createSqlStore(options);
    undo.push(() => store.close());
    const partitions = async () =>
      (
        await adminQuery<{ relname: string }>(
          `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${s}.tickwork_run'::regclass ORDER BY c.relname COLLATE "C"`,
        )
      ).map((p) => p.relname);
    const codes = async () =>
      (await adminQuery<{ code: string; slot_at: Date }>(`SELECT code, slot_at FROM ${s}.tickwork_run ORDER BY id`)).map(
        (r) => `${r.code}@${r.slot_at.toISOString()}`,
      );

    // A session writing into month -6 holds its lock: that month is left whole, nothing of it deleted.
    const holder = new pg.Client({ connectionString: PG_URL });
    await holder.connect();
    undo.push(() => holder.end());
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${s}.${partitionOf(month(-6))} IN ROW EXCLUSIVE MODE`);
    // The boundary in month -4: runs finished before the 10th go (the failed one of the 1st), the 20th's stays.
    const boundary = month(-4, 9);
    expect(await store.pruneRuns({ olderThan: boundary })).toBe(3);
    await holder.query('ROLLBACK');
    expect(await codes()).toEqual([
      `a@${month(-6, 1).toISOString()}`,
      `b@${month(-6, 2).toISOString()}`,
      `a@${month(-5, 2).toISOString()}`,
      `a@${month(-4, 20).toISOString()}`,
      `c@${month(-7, 1).toISOString()}`,
    ]);
    // Nothing dropped: -7 holds a run finished after the boundary, -6 was locked, -5 holds a running run, -4 straddles.
    const kept = [-7, -6, -5, -4, 0, 1].map((k) => partitionOf(month(k)));
    expect(await partitions()).toEqual(['tickwork_run_default', ...kept]);

    // Unlocked, month -6 goes whole (its two runs counted); once the running run of -5 finishes, -5 goes whole too.
    expect(await store.pruneRuns({ olderThan: boundary })).toBe(2);
    expect(await partitions()).not.toContain(partitionOf(month(-6)));
    const [running] = (await store.queryRuns({ status: 'running' })).runs;
    const lease = {
      code: 'a',
      key: '',
      runId: running!.id,
      token: running!.token,
      runnerId: 'old',
      expiresAt: running!.leaseExpiresAt!,
      cancelRequested: false,
    };
    expect((await store.completeRuns([{ lease, status: 'succeeded', finishedAt: month(-5, 3) }]))[0]?.status).toBe('completed');
    expect(await store.pruneRuns({ olderThan: boundary })).toBe(1);
    expect(await partitions()).toEqual(['tickwork_run_default', ...[-7, -4, 0, 1].map((k) => partitionOf(month(k)))]);
    expect(await codes()).toEqual([`a@${month(-4, 20).toISOString()}`, `c@${month(-7, 1).toISOString()}`]);
    // The current month's slots are still claimed once: a claim of a kept run's slot is taken, a new slot claimed once.
    const claim = {
      code: 'a',
      key: '',
      slotAt: month(0, 1),
      attempt: 1,
      trigger: 'schedule' as const,
      overlap: 'allowAll' as const,
      leaseMs: 60_000,
    };
    const first = await store.claimSlots([claim], { runnerId: 'r1', now: month(0, 1) });
    const again = await store.claimSlots([claim, { ...claim, slotAt: month(-4, 20) }], { runnerId: 'r2', now: month(0, 1) });
    expect([...first, ...again].map((o) => o.status)).toEqual(['claimed', 'taken', 'taken']);
  });

  it("pruneRuns keeps this month's and next month's partitions ahead, moving their rows out of the default partition", async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    const options: SqlStoreOptions = pgOptions(schema);
    await migrate(options);
    const month = await monthsFromNow();
    // As if the migration ran two months ago and nothing pruned since: the months' runs went to the default partition.
    for (const k of [0, 1]) await adminQuery(`DROP TABLE ${s}.${partitionOf(month(k))}`);
    await seedRuns(s, [
      { code: 'a', slot: month(0, 1), status: 'running' },
      { code: 'a', slot: month(1, 1), status: 'waiting' },
    ]);
    const where = () =>
      adminQuery<{ part: string }>(
        `SELECT (SELECT c.relname FROM pg_class c WHERE c.oid = r.tableoid) AS part FROM ${s}.tickwork_run r ORDER BY r.id`,
      );
    expect((await where()).map((w) => w.part)).toEqual(['tickwork_run_default', 'tickwork_run_default']);
    const store = createSqlStore(options);
    undo.push(() => store.close());
    expect(await store.pruneRuns({ olderThan: month(-1) })).toBe(0);
    expect((await where()).map((w) => w.part)).toEqual([partitionOf(month(0)), partitionOf(month(1))]);
    // Still one run a slot: the moved running run's slot is taken.
    const claim = {
      code: 'a',
      key: '',
      slotAt: month(0, 1),
      attempt: 1,
      trigger: 'schedule' as const,
      overlap: 'allowAll' as const,
      leaseMs: 60_000,
    };
    expect((await store.claimSlots([claim], { runnerId: 'r', now: month(0, 1) }))[0]?.status).toBe('taken');
  });

  it('claims from four stores racing with prunes that drop old months: every slot claimed exactly once, every old run pruned once', async () => {
    const schema = randomSchema();
    const s = `"${schema}"`;
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
    const options: SqlStoreOptions = pgOptions(schema);
    await migrate(options);
    const month = await monthsFromNow();
    const stores = Array.from({ length: 4 }, () => createSqlStore(options));
    const pruner = createSqlStore(options);
    for (const store of [...stores, pruner]) undo.push(() => store.close());
    const SLOTS = 120;
    const slot = (i: number) => new Date(month(0, 1).getTime() + i * 60_000);
    const claims = async (store: (typeof stores)[number], runner: string) => {
      const statuses: string[] = [];
      for (let i = 0; i < SLOTS; i += 10) {
        const batch = Array.from({ length: 10 }, (_, j) => ({
          code: 'race',
          key: '',
          slotAt: slot(i + j),
          attempt: 1,
          trigger: 'schedule' as const,
          overlap: 'allowAll' as const,
          leaseMs: 60_000,
        }));
        statuses.push(...(await store.claimSlots(batch, { runnerId: runner, now: slot(i) })).map((o) => o.status));
      }
      return statuses;
    };
    // Meanwhile: four old months, each filled with 50 finished runs and pruned (dropped whole, or left for a later prune).
    const OLD = [-9, -8, -7, -6];
    const prunes = async () => {
      let pruned = 0;
      for (const k of OLD) {
        await adminQuery(`SELECT ${s}.tickwork_run_ensure_partition($1)`, [month(k)]);
        await adminQuery(
          `INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms)
           SELECT 'old', '', t, 1, 'schedule', 'succeeded', 'old', 1, t, t + interval '1 minute', 60000
           FROM (SELECT $1::timestamptz + g * interval '1 minute' AS t FROM generate_series(0, 49) g) x`,
          [month(k)],
        );
        pruned += await pruner.pruneRuns({ olderThan: month(-5) });
      }
      return pruned;
    };
    const [pruned, ...outcomes] = await Promise.all([prunes(), ...stores.map((store, i) => claims(store, `r${i}`))]);
    const all = outcomes.flat();
    expect(all.filter((o) => o === 'claimed')).toHaveLength(SLOTS);
    expect(all.filter((o) => o === 'taken')).toHaveLength(SLOTS * 3);
    const [runs] = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.tickwork_run WHERE code = 'race'`);
    expect(runs?.n).toBe(SLOTS);
    // Every old run pruned exactly once (by this loop or, for a month left busy, by the last prune).
    const rest = await pruner.pruneRuns({ olderThan: month(-5) });
    expect(pruned + rest).toBe(OLD.length * 50);
    const [left] = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.tickwork_run WHERE code = 'old'`);
    expect(left?.n).toBe(0);
    // Gone as whole partitions, not row by row.
    const [kept] = await adminQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = '${s}.tickwork_run'::regclass AND c.relname = ANY($1)`,
      [OLD.map((k) => partitionOf(month(k)))],
    );
    expect(kept?.n).toBe(0);
  }, 300_000);

  it('on SQLite the migration changes nothing: the run log stays one table', async () => {
    const temp = tempSqliteFile();
    undo.push(async () => temp.remove());
    const options: SqlStoreOptions = { driver: 'sqlite', dbName: temp.file };
    await migrateWith(options, SHIPPED.slice(0, BEFORE));
    const schemaSql = () =>
      rawSqlite(
        temp.file,
        `SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'tickwork_schema_compat%' AND name <> 'tickwork_migrations' ORDER BY name`,
      );
    const before = schemaSql();
    // This migration alone: later ones may add SQLite tables of their own.
    const result = await migrateWith(options, SHIPPED.slice(0, BEFORE + 1));
    expect(result.applied).toEqual([PARTITIONS]);
    expect(schemaSql()).toEqual(before);
  });
});
