// Removing a month of runs from the partitioned PostgreSQL run log (#23): row DELETE against
// dropping the month's partition through the store's retention. A schema of its own is
// migrated; a month six months back is filled with RUNS finished runs (INSERT … SELECT
// generate_series, then VACUUM ANALYZE, as a month long past would be) once per way it is removed:
// by one `DELETE` of the month's rows (the most favourable row delete: one statement, the partition
// pruned to), by batches of 1,000 as `pruneRuns` deleted before the partitions, and by
// `store.pruneRuns()`, which drops the partition whole. Wall time and WAL
// (pg_wal_lsn_diff of pg_current_wal_lsn() before and after; WAL is the whole server's, so
// other sessions' writes meanwhile count too). The schema is dropped at the end.
// Run after `npx tsc -p tsconfig.build.json`:
//   node bench/partition-drop.mjs
// Env: TICKWORK_PG_URL (default postgres://postgres@127.0.0.1:5432/test), RUNS (default 1000000),
// WAYS (default delete,batched,drop: which removals to measure, each after a fill of its own; the
// batched DELETE is 10,000 statements at RUNS=10000000).
import pg from 'pg';
import { createSqlStore, migrate } from '../dist/index.js';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.RUNS ?? 1_000_000);
const WAYS = new Set((process.env.WAYS ?? 'delete,batched,drop').split(','));
const schema = `tw_bench_part_${Date.now().toString(36)}`;
const s = `"${schema}"`;
const client = new pg.Client({ connectionString: PG_URL });
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mb = (bytes) => `${(Number(bytes) / 1024 / 1024).toFixed(1)} MB`;

async function one(sql, params = []) {
  return (await client.query(sql, params)).rows[0];
}

/** The month six months before the server's, as [from, to) instants and its partition's name. */
async function benchMonth() {
  const row = await one(`SELECT date_trunc('month', now() AT TIME ZONE 'UTC') - interval '6 months' AS lo`);
  const lo = new Date(Date.UTC(row.lo.getFullYear(), row.lo.getMonth(), 1));
  const hi = new Date(Date.UTC(lo.getUTCFullYear(), lo.getUTCMonth() + 1, 1));
  const name = `tickwork_run_p${lo.getUTCFullYear()}${String(lo.getUTCMonth() + 1).padStart(2, '0')}`;
  return { lo, hi, name };
}

/**
 * Fills the month with RUNS finished runs, spread evenly over it, 1,000 jobs; each finished a second
 * after its slot, the last still within the month (else the month is not wholly prunable and
 * `pruneRuns` deletes its rows instead of dropping it).
 */
async function fill({ lo, hi, name }) {
  await one(`SELECT ${s}.tickwork_run_ensure_partition($1)`, [lo]);
  const started = performance.now();
  const step = (hi.getTime() - lo.getTime() - 2_000) / RUNS;
  await client.query(
    `INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms)
     SELECT 'job-' || (g % 1000), '', t, 1, 'schedule', 'succeeded', 'bench', g, t, t + interval '1 second', 1000
     FROM (SELECT g, $1::timestamptz + (g * $2::float8) * interval '1 millisecond' AS t FROM generate_series(0, $3::bigint - 1) g) x`,
    [lo, step, RUNS],
  );
  await client.query(`VACUUM (ANALYZE) ${s}.${name}`);
  const size = await one(`SELECT pg_total_relation_size('${s}.${name}') AS bytes`);
  console.log(
    `filled ${fmt(RUNS)} runs in ${((performance.now() - started) / 1000).toFixed(1)} s; partition with indexes ${mb(size.bytes)}`,
  );
}

/** Wall time and WAL bytes of `fn`. */
async function measured(label, fn) {
  const before = await one('SELECT pg_current_wal_lsn() AS lsn');
  const started = performance.now();
  const result = await fn();
  const ms = performance.now() - started;
  const wal = await one('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS bytes', [before.lsn]);
  console.log(`${label}: ${(ms / 1000).toFixed(3)} s, WAL ${mb(wal.bytes)} (${fmt(Number(wal.bytes))} bytes)`);
  return result;
}

/** Fills the month and removes it by one `DELETE` of its rows, then drops the emptied partition. */
async function rowDelete(month) {
  await fill(month);
  const deleted = await measured('row DELETE of the month', async () => {
    const result = await client.query(`DELETE FROM ${s}.tickwork_run WHERE slot_at >= $1 AND slot_at < $2`, [month.lo, month.hi]);
    return result.rowCount;
  });
  if (deleted !== RUNS) throw new Error(`the DELETE removed ${deleted} runs, expected ${RUNS}`);
  // The emptied partition goes too, so the next fill starts from a fresh one.
  await client.query(`DROP TABLE ${s}.${month.name}`);
}

/** Fills the month and removes it by batches of 1,000 rows, as `pruneRuns` did before the partitions. */
async function batchedDelete(month) {
  await fill(month);
  const batched = await measured('batched row DELETE (1,000 a statement, as pruneRuns did before)', async () => {
    let total = 0;
    for (;;) {
      const result = await client.query(
        `WITH gone AS (DELETE FROM ${s}.tickwork_run WHERE (id, slot_at) IN (
           SELECT id, slot_at FROM ${s}.tickwork_run WHERE status NOT IN ('running', 'waiting') AND finished_at < $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)
         RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [month.hi],
      );
      total += result.rows[0].n;
      if (result.rows[0].n < 1000) return total;
    }
  });
  if (batched !== RUNS) throw new Error(`the batched DELETE removed ${batched} runs, expected ${RUNS}`);
  await client.query(`DROP TABLE ${s}.${month.name}`);
}

/** Fills the month and removes it by `store.pruneRuns()`, which drops the partition whole. */
async function partitionDrop(month) {
  await fill(month);
  const store = createSqlStore({ driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 2 });
  try {
    const pruned = await measured('pruneRuns dropping the partition', () => store.pruneRuns({ olderThan: month.hi }));
    if (pruned !== RUNS) throw new Error(`pruneRuns reported ${pruned} runs, expected ${RUNS}`);
    const left = await one(`SELECT to_regclass('${s}.${month.name}') AS t`);
    if (left.t !== null) throw new Error(`partition ${month.name} is still there`);
  } finally {
    await store.close();
  }
}

await client.connect();
try {
  await migrate({ driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 2 });
  const month = await benchMonth();
  console.log(`month ${month.lo.toISOString().slice(0, 7)}, ${fmt(RUNS)} runs, schema ${schema}`);
  if (WAYS.has('delete')) await rowDelete(month);
  // The row delete retention did before the partitions: batches of 1,000, each its own statement.
  if (WAYS.has('batched')) await batchedDelete(month);
  if (WAYS.has('drop')) await partitionDrop(month);
} finally {
  await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
}
