// The dashboard at scale: N runtime schedules (default 100,000) on one job, then, over HTTP on
// localhost with an admin bearer token: the jobs overview (first call, which counts schedules, and
// warm), the schedule list's first page and page 500 (50 a page; the cursor of page 500 is walked
// first, untimed), and the bytes of HTML + CSS + JS a first visit transfers (gzipped).
// Times are medians of 5 requests, measured at the client (so they include HTTP on loopback).
// Usage: node bench/schedules.mjs [--store memory|sqlite|pg] [--schedules 100000]   (build first)
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createMemoryStore, defineJob, every } from '@tickwork/core';
import { createDashboard, createStoreAccess, startDashboardServer } from '../dist/index.js';

const { values } = parseArgs({
  options: { store: { type: 'string', default: 'memory' }, schedules: { type: 'string', default: '100000' } },
});
const n = Number(values.schedules);
const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-dashboard-'));
const schema = `tw_bench_dash_${process.pid}`;

async function openStore() {
  if (values.store === 'memory') return { store: createMemoryStore(), drop: async () => undefined };
  const { createSqlStore, migrate } = await import('@tickwork/store-sql');
  const options =
    values.store === 'sqlite'
      ? { driver: 'sqlite', dbName: join(dir, 'bench.db') }
      : { driver: 'postgresql', clientUrl: process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', schema };
  await migrate(options);
  const store = createSqlStore(options);
  const drop = async () => {
    if (values.store !== 'pg') return;
    // The bench's own schema on the shared server: dropped, whatever happened.
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: options.clientUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  };
  return { store, drop };
}

const jobs = [
  defineJob({ code: 'tenants.report', schedule: null, run: () => undefined }),
  ...Array.from({ length: 20 }, (_, i) => defineJob({ code: `job.${i}`, schedule: every(`${i + 1}m`), run: () => undefined })),
];
const { store, drop } = await openStore();
process.on('SIGINT', () => void drop().finally(() => process.exit(130)));
const now = new Date();
const loadStart = performance.now();
for (let at = 0; at < n; at += 1000) {
  const batch = [];
  for (let i = at; i < Math.min(n, at + 1000); i += 1) {
    batch.push({
      code: 'tenants.report',
      key: `tenant-${String(i).padStart(6, '0')}`,
      schedule: { kind: 'cron', expression: `${i % 60} ${i % 24} * * *` },
      timezone: 'Europe/Paris',
      payload: { tenant: i },
      enabled: true,
      startAt: null,
      expiresAt: null,
      description: null,
      options: {},
    });
  }
  await store.upsertSchedules(batch, now);
}
console.log(
  `store ${values.store}: ${n.toLocaleString('en')} runtime schedules loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`,
);

const access = createStoreAccess(store);
const { secret } = await access.createToken({ name: 'bench', role: 'admin', expiresAt: null, now });
const dashboard = createDashboard({ store, jobs });
const server = await startDashboardServer(dashboard, { port: 0 });

function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(new URL(path, server.url), { headers: { authorization: `Bearer ${secret}`, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, ms: performance.now() - started, bytes: Buffer.concat(chunks), headers: res.headers }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(path, times = 5) {
  const ms = [];
  let last;
  for (let i = 0; i < times; i += 1) {
    last = await get(path);
    if (last.status !== 200) throw new Error(`${path}: ${last.status} ${last.bytes}`);
    ms.push(last.ms);
  }
  return { ms: median(ms), body: JSON.parse(last.bytes.toString()) };
}

const first = await get('api/jobs');
const overview = await timed('api/jobs');
const count = JSON.parse(first.bytes.toString()).jobs.find((j) => j.code === 'tenants.report').runtimeSchedules;
console.log(
  `overview (${jobs.length} jobs): first ${first.ms.toFixed(1)} ms (counts schedules: ${count.count}${count.more ? '+' : ''}), warm ${overview.ms.toFixed(1)} ms`,
);
const page1 = await timed('api/jobs/tenants.report/schedules?limit=50');
console.log(
  `schedules page 1 (50 rows): ${page1.ms.toFixed(1)} ms, ${JSON.stringify(page1.body).length.toLocaleString('en')} bytes of JSON`,
);
const target = Math.min(500, Math.ceil(n / 50));
let cursor = page1.body.nextCursor;
const walkStart = performance.now();
for (let page = 2; page < target; page += 1)
  cursor = JSON.parse(
    (await get(`api/jobs/tenants.report/schedules?limit=50&cursor=${encodeURIComponent(cursor)}`)).bytes.toString(),
  ).nextCursor;
const walk = performance.now() - walkStart;
const page500 = await timed(`api/jobs/tenants.report/schedules?limit=50&cursor=${encodeURIComponent(cursor)}`);
console.log(
  `schedules page ${target}: ${page500.ms.toFixed(1)} ms (first key ${page500.body.schedules[0].key}; walking pages 2-${target - 1} took ${(walk / 1000).toFixed(1)} s, ${(walk / Math.max(1, target - 2)).toFixed(1)} ms a page)`,
);

let total = 0;
let js = 0;
const files = ['', 'assets/app.css', 'assets/app.js', 'assets/api.js', 'assets/dom.js', 'assets/chart.js', 'assets/form.js'];
for (const file of files) {
  const res = await get(file, { 'accept-encoding': 'gzip' });
  total += res.bytes.length;
  if (file.endsWith('.js')) js += res.bytes.length;
}
console.log(
  `first visit: ${files.length} files, ${total.toLocaleString('en')} bytes gzipped (JavaScript ${js.toLocaleString('en')} bytes)`,
);

await server.close();
await store.close();
await drop();
rmSync(dir, { recursive: true, force: true });
