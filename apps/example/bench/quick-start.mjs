#!/usr/bin/env node
// Figures a new user feels: how long `node scripts/start.mjs` takes to serve, how long until
// the seeded absentees are ABSENT, the cold start of `tickwork run` with this config (paid every
// minute under cron), and HTTP throughput on SQLite. Prints figures; asserts nothing.
// Run from apps/example after building: node bench/quick-start.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tickwork-example-bench-'));
const env = {
  ...process.env,
  TICKWORK_SQLITE_FILE: join(dir, 'app.sqlite'),
  PORT: '0',
  EXAMPLE_MARK_ABSENT_EVERY: '1s',
  LOG_LEVEL: 'warn',
};
const ms = (from) => Number(process.hrtime.bigint() - from) / 1e6;
const json = async (url, init) => {
  const r = await fetch(url, init);
  return r.json();
};

const started = process.hrtime.bigint();
const child = spawn(process.execPath, ['scripts/start.mjs'], { cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const url = await new Promise((resolve, reject) => {
  child.stdout.on('data', (chunk) => {
    out += chunk;
    const match = out.match(/HTTP API\s+(http:\/\/\S+)/);
    if (match) resolve(match[1]);
  });
  child.on('exit', () => reject(new Error(`start.mjs exited:\n${out}`)));
});
const ready = ms(started);
for (;;) {
  if (!(await json(`${url}/events/1`)).open) break;
  await new Promise((r) => setTimeout(r, 50));
}
const absent = ms(started);

const cold = [];
for (let i = 0; i < 5; i++) {
  const t = process.hrtime.bigint();
  const r = spawnSync(join(app, 'node_modules/.bin/tickwork'), ['run', '--dry-run', '--json'], { cwd: app, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  cold.push(ms(t));
}
cold.sort((a, b) => a - b);

// 200 members, one open event, 200 check-ins with 8 requests in flight.
const post = (path, body) =>
  json(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const group = await post('/groups', { name: 'bench' });
const members = [];
for (let i = 0; i < 200; i++) {
  const m = await post('/members', { name: `m${i}` });
  await post(`/groups/${group.id}/members`, { memberId: m.id, joinedAt: new Date(Date.now() - 3_600_000).toISOString() });
  members.push(m.id);
}
const event = await post('/events', {
  groupId: group.id,
  title: 'bench',
  startsAt: new Date(Date.now() + 3_600_000).toISOString(),
  failMinutes: 10,
});
async function pool(items, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
let t = process.hrtime.bigint();
await pool(members, 8, (id) => post(`/events/${event.id}/check-ins`, { memberId: id }));
const checkIns = ms(t);
t = process.hrtime.bigint();
await pool(Array.from({ length: 500 }), 8, () => json(`${url}/events/${event.id}`));
const reads = ms(t);

child.kill('SIGINT');
await new Promise((r) => child.on('exit', r));
rmSync(dir, { recursive: true, force: true });

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores, SQLite store`);
console.log(`start.mjs to HTTP ready (migrate + seed + daemon): ${ready.toFixed(0)} ms`);
console.log(`start.mjs to seeded absentees ABSENT (1 s interval): ${absent.toFixed(0)} ms`);
console.log(
  `tickwork run --dry-run cold start (5 runs): median ${cold[2].toFixed(0)} ms, min ${cold[0].toFixed(0)} ms, max ${cold[4].toFixed(0)} ms`,
);
console.log(`200 check-ins, 8 in flight: ${checkIns.toFixed(0)} ms (${(200 / (checkIns / 1000)).toFixed(0)} req/s)`);
console.log(`500 GET /events/:id (200 members), 8 in flight: ${reads.toFixed(0)} ms (${(500 / (reads / 1000)).toFixed(0)} req/s)`);
