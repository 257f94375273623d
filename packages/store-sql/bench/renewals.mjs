// Lease renewals on PostgreSQL before and after the sixth migration (HOT renewals, issue #19):
// RUNNING runs are claimed and kept running; ROUNDS rounds renew every lease (one renewLeases
// call per round, as a daemon renews a batch). Prints, per 1,000 renewals, pg_stat_user_tables'
// n_tup_upd / n_tup_hot_upd / n_dead_tup of tickwork_run, the WAL bytes written, and how much
// the run table's indexes grew. A private server (initdb + pg_ctl of PostgreSQL 15 as user
// postgres, temp folder, free port; TICKWORK_PG_BIN overrides the folder), so the WAL figure
// is this bench's alone and no other client's. Run after `npx tsc -p tsconfig.build.json`:
//   node bench/renewals.mjs            (RUNNING=1000 ROUNDS=3)
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createSqlStore } from '../dist/index.js';
import { migrateWith, SHIPPED } from '../dist/migrate.js';

const RUNNING = Number(process.env.RUNNING ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** Leases per renewLeases call: RUNNING (one call a round: runs claimed together renew together) or fewer (runs started apart). */
const BATCH = Number(process.env.BATCH ?? RUNNING);
const FILLFACTOR = process.env.FILLFACTOR; // try another fillfactor for the "after" schema
const BIN = process.env.TICKWORK_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const AT = new Date(Date.UTC(2030, 0, 7, 12));

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-pg-'));
const uid = Number(execFileSync('id', ['-u', 'postgres']));
const gid = Number(execFileSync('id', ['-g', 'postgres']));
chownSync(dir, uid, gid);
const asPostgres = (...args) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'pipe' });
asPostgres(join(BIN, 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync');
asPostgres(
  join(BIN, 'pg_ctl'),
  '-D',
  join(dir, 'data'),
  '-l',
  join(dir, 'log'),
  '-w',
  '-o',
  `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c autovacuum=off`,
  'start',
);
const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

async function measure(label, undoHot) {
  const schema = `bench_${label}`;
  const options = { driver: 'postgresql', clientUrl: url, schema };
  await migrateWith(options, SHIPPED);
  if (undoHot) {
    // The schema before the sixth migration: its down() puts the lease index and the default fillfactor back.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(
      `CREATE INDEX tickwork_run_lease_idx ON "${schema}".tickwork_run (lease_expires_at) WHERE status = 'running'; ALTER TABLE "${schema}".tickwork_run RESET (fillfactor)`,
    );
    await c.end();
  } else if (FILLFACTOR) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`ALTER TABLE "${schema}".tickwork_run SET (fillfactor = ${Number(FILLFACTOR)})`);
    await c.end();
  }
  const store = createSqlStore(options);
  const refs = Array.from({ length: RUNNING }, (_, i) => ({ code: `job${i}`, key: '' }));
  await store.ensureStates(refs, AT);
  // A run log around the running runs, as in a deployment: finished runs on the same pages' neighbours.
  const claims = refs.map((ref) => ({ ...ref, slotAt: AT, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 }));
  const claimed = await store.claimSlots(claims, { runnerId: 'bench', now: AT });
  let leases = claimed.map((c) => c.lease);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const stats = async () =>
    (
      await admin.query(
        `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot, n_dead_tup::int AS dead,
            (SELECT sum(pg_relation_size(indexrelid))::bigint FROM pg_index WHERE indrelid = '${schema}.tickwork_run'::regclass) AS index_bytes,
            pg_current_wal_lsn() AS lsn
       FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'tickwork_run'`,
        [schema],
      )
    ).rows[0];
  const flush = async () => {
    // Other sessions' counters reach the shared stats at their transaction ends, at most once a second.
    await new Promise((r) => setTimeout(r, 1500));
    await admin.query('SELECT pg_stat_clear_snapshot()');
  };
  await admin.query('CHECKPOINT'); // the first touch of each page after it writes a full-page image: both variants alike
  await flush();
  const before = await stats();
  const began = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    const now = new Date(AT.getTime() + round * 1000);
    const next = [];
    for (let i = 0; i < leases.length; i += BATCH)
      next.push(...(await store.renewLeases(leases.slice(i, i + BATCH), { now, leaseMs: 60_000 })));
    leases = next;
    if (leases.some((l) => l === null)) throw new Error('a lease was lost');
  }
  const ms = performance.now() - began;
  await store.close();
  await flush();
  const after = await stats();
  const wal = Number((await admin.query('SELECT pg_wal_lsn_diff($1, $2)::bigint AS d', [after.lsn, before.lsn])).rows[0].d);
  await admin.end();
  const renewals = RUNNING * ROUNDS;
  const per = (x) => Math.round((x * 1000) / renewals);
  console.log(
    `${label.padEnd(6)} ${renewals} renewals in calls of ${BATCH}: n_tup_upd ${after.upd - before.upd}, n_tup_hot_upd ${after.hot - before.hot} ` +
      `(HOT ${Math.round(((after.hot - before.hot) / Math.max(1, after.upd - before.upd)) * 100)} %), n_dead_tup +${after.dead - before.dead}; ` +
      `per 1,000 renewals: ${per(wal).toLocaleString('en')} WAL bytes, ${per(after.dead - before.dead)} dead tuples; ` +
      `indexes ${Number(before.index_bytes).toLocaleString('en')} → ${Number(after.index_bytes).toLocaleString('en')} bytes; ${Math.round(ms)} ms`,
  );
}

try {
  await measure('before', true);
  await measure('after', false);
} finally {
  try {
    asPostgres(join(BIN, 'pg_ctl'), '-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
