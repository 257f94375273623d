// Claims + completions per second with 1, 4 and 16 concurrent claimants (separate store
// instances), on PostgreSQL and SQLite, and the cold-start time of a fresh process
// (import + connect + first read). Run after `npx tsc -p tsconfig.build.json`:
//   node bench/claims.mjs
// Env: TICKWORK_PG_URL (default postgres://postgres@127.0.0.1:5432/test), SLOTS (default 20000), BATCH (default 250).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createSqlStore, migrate } from '../dist/index.js';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SLOTS = Number(process.env.SLOTS ?? 20_000);
const BATCH = Number(process.env.BATCH ?? 250);
const DIST = new URL('../dist/index.js', import.meta.url).pathname;
const AT = new Date(Date.UTC(2030, 0, 7));

async function admin(sql) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `claimants` stores share SLOTS slots (each its own share), claim them in batches and complete every run. */
async function throughput(options, claimants) {
  const stores = Array.from({ length: claimants }, () => createSqlStore(options));
  await Promise.all(stores.map((s) => s.ping()));
  const perClaimant = Math.floor(SLOTS / claimants);
  const started = performance.now();
  let done = 0;
  await Promise.all(
    stores.map(async (store, c) => {
      for (let from = 0; from < perClaimant; from += BATCH) {
        const claims = [];
        for (let i = from; i < Math.min(from + BATCH, perClaimant); i += 1) {
          claims.push({ code: `job-${c}-${i}`, key: '', slotAt: AT, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 });
        }
        const outcomes = await store.claimSlots(claims, { runnerId: `runner-${c}`, now: AT });
        const completions = outcomes.map((o) => ({ lease: o.lease, status: 'succeeded', finishedAt: AT }));
        const completed = await store.completeRuns(completions);
        done += completed.filter((o) => o.status === 'completed').length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(stores.map((s) => s.close()));
  return { claimants, slots: done, perSecond: Math.round(done / seconds) };
}

function startup(options, runs = 11) {
  const script = `
    const { createSqlStore } = await import(${JSON.stringify(DIST)});
    const store = createSqlStore(${JSON.stringify(options)});
    await store.getStates([{ code: 'x', key: '' }]);
    console.log(performance.now());
    await store.close();`;
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    times.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
  }
  times.sort((a, b) => a - b);
  return { minMs: Math.round(times[0]), medianMs: Math.round(times[Math.floor(times.length / 2)]) };
}

async function freshPg() {
  const schema = `tw_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const options = { driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 4 };
  await migrate(options);
  return { options, drop: () => admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) };
}

async function freshSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-'));
  const options = { driver: 'sqlite', dbName: join(dir, 'bench.db') };
  await migrate(options);
  return { options, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

console.log(`node ${process.version}, ${SLOTS} slots per run, batches of ${BATCH}; claims+completions per second`);
for (const [name, fresh] of [
  ['postgresql', freshPg],
  ['sqlite', freshSqlite],
]) {
  for (const claimants of [1, 4, 16]) {
    const db = await fresh();
    try {
      const r = await throughput(db.options, claimants);
      console.log(
        `${name.padEnd(10)} claimants=${String(claimants).padStart(2)}  ${String(r.perSecond).padStart(6)} claims+completions/s  (${r.slots} slots)`,
      );
    } finally {
      await db.drop();
    }
  }
  const db = await fresh();
  try {
    const s = startup(db.options);
    console.log(
      `${name.padEnd(10)} startup (fresh process: import + connect + schema check + first read): min ${s.minMs} ms, median ${s.medianMs} ms of 11`,
    );
  } finally {
    await db.drop();
  }
}
