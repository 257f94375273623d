// Runtime schedules at scale: N schedules stored in the store (`* * * * *`, spread over J jobs with
// `schedule: null`), loaded with upsertSchedules in batches of 1,000, then ONE daemon process
// (maxConcurrentRuns = N unless --concurrency), or --daemons K processes sharing the store: start-up
// time to ready, RSS, lateness of the minute bursts, duplicates and misses of every slot, and how long
// after an upsert of a new every-second schedule returns its first run starts (samples at :25 and :45
// of each minute, away from the burst at :00).
// --spread: schedule i fires once a minute at second i % 60 (`S * * * * *`) instead of all at :00.
// Usage: node bench/runtime-schedules.mjs --store pg|redis [--schedules 100000] [--jobs 100] [--seconds 180]
//        [--samples 6] [--concurrency N] [--daemons 1] [--spread]            (build first: npx tsc -p tsconfig.build.json)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createScheduler, defineJob } from '@tickwork/core';
import { dropRedisPrefix } from './drop-redis-prefix.mjs';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'pg' },
    schedules: { type: 'string', default: '100000' },
    jobs: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '180' },
    samples: { type: 'string', default: '6' },
    concurrency: { type: 'string' },
    spread: { type: 'boolean', default: false },
    daemons: { type: 'string', default: '1' },
  },
});
const n = Number(values.schedules);
const jobCount = Number(values.jobs);
const seconds = Number(values.seconds);
const samples = Number(values.samples);
const daemonCount = Number(values.daemons);
const concurrency = values.concurrency === undefined ? n + 100 : Number(values.concurrency);
const cronOf = (i) => (values.spread ? `${i % 60} * * * * *` : '* * * * *');
const pgUrl = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const id = `${process.pid}_${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-rt-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let spec;
let store;
if (values.store === 'pg') {
  spec = { kind: 'postgresql', url: pgUrl, schema: `tw_bench_rt_${id}` };
  const { migrate, createSqlStore } = await import('@tickwork/store-sql');
  await migrate({ driver: 'postgresql', clientUrl: pgUrl, schema: spec.schema });
  store = createSqlStore({ driver: 'postgresql', clientUrl: pgUrl, schema: spec.schema });
} else if (values.store === 'redis') {
  spec = { kind: 'redis', url: redisUrl, prefix: `tw-bench-rt-${id}` };
  const { createRedisStore } = await import('@tickwork/store-redis');
  store = createRedisStore({ url: redisUrl, prefix: spec.prefix });
} else {
  throw new Error(`--store must be pg or redis (the daemon runs in its own process), got ${values.store}`);
}

// — the schedules: schedule i belongs to job i % J, upserted 1,000 per call. They start (startAt) 20 s
// after the upsert began: a schedule created just before the daemon starts would otherwise be caught
// up at once (the `latest` policy), a burst of up to N runs that only a bench creates —
const jobs = Array.from({ length: jobCount }, (_, j) => defineJob({ code: `rt-${j}`, schedule: null, run: () => undefined }));
const scheduler = createScheduler({ jobs, store });
const loadStarted = performance.now();
const startAt = new Date(Date.now() + 20_000);
for (let j = 0; j < jobCount; j++) {
  const keys = [];
  for (let i = j; i < n; i += jobCount) keys.push(i);
  for (let k = 0; k < keys.length; k += 1000) {
    await scheduler
      .schedules(`rt-${j}`)
      .upsert(keys.slice(k, k + 1000).map((i) => ({ key: `s-${i}`, schedule: cronOf(i), payload: { i }, startAt })));
  }
}
const loadMs = performance.now() - loadStarted;

// — the daemon processes —
const script = fileURLToPath(new URL('./runtime-schedules-daemon.mjs', import.meta.url));
const probes = new Map(); // key → first start in any daemon (epoch ms)
function startDaemon(d) {
  const out = join(dir, `daemon-${d}.json`);
  const runnerId = daemonCount === 1 ? 'bench-rt' : `bench-rt-${d}`;
  const env = { ...process.env, TW_BENCH: JSON.stringify({ store: spec, jobs: jobCount, schedules: n, concurrency, runnerId, out }) };
  const child = spawn(process.execPath, ['--expose-gc', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let text = '';
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('ready ')) resolve(JSON.parse(line.slice(6)));
        if (line.startsWith('probe ')) {
          const [, key, at] = line.split(' ');
          if (!probes.has(key) || probes.get(key) > Number(at)) probes.set(key, Number(at));
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`daemon ${d} exited with ${code}`)));
  });
  return { child, exited, ready, out };
}
const daemons = Array.from({ length: daemonCount }, (_, d) => startDaemon(d));
const readinesses = await Promise.all(daemons.map((daemon) => daemon.ready));
await sleep(startAt.getTime() - Date.now());
const from = Date.now();

// — upsert → first run, at :25 and :45 of each minute (a burst at :00 keeps the daemon busy for a while) —
const changes = [];
const probeTimes = [];
for (let t = Math.ceil(from / 20_000) * 20_000; probeTimes.length < samples && t < from + seconds * 1000 - 5_000; t += 20_000) {
  if (t % 60_000 !== 0) probeTimes.push(t + 5_000);
}
for (const [k, at] of probeTimes.entries()) {
  await sleep(Math.max(0, at - Date.now()));
  const key = `probe-${k}`;
  await scheduler.schedules('rt-0').upsert({ key, schedule: '* * * * * *', payload: { probe: k } });
  const upserted = Date.now();
  for (let waited = 0; !probes.has(key) && waited < 10_000; waited += 5) await sleep(5);
  changes.push(probes.has(key) ? probes.get(key) - upserted : Number.POSITIVE_INFINITY);
  await scheduler.schedules('rt-0').remove(key);
}
await sleep(Math.max(0, from + seconds * 1000 - Date.now()));
// Slots up to 20 s before the stop: a burst's last runs may start seconds late, and must not count as misses.
const to = Date.now() - 20_000;
for (const daemon of daemons) daemon.child.kill('SIGTERM');
await Promise.all(daemons.map((daemon) => daemon.exited));
const summaries = daemons.map((daemon) => JSON.parse(readFileSync(daemon.out, 'utf8')));

// Instants that fell due while the daemon was up, with how many schedules each must run once.
const due = new Map();
for (let i = 0; i < n; i++) {
  const second = values.spread ? i % 60 : 0;
  for (let t = Math.ceil((from + 1 - second * 1000) / 60_000) * 60_000 + second * 1000; t <= to; t += 60_000)
    due.set(t, (due.get(t) ?? 0) + 1);
}
// Exact counts per schedule and instant, summed over the daemons: a duplicate in one place cannot hide a miss in another.
const ranBySlot = new Map();
for (const summary of summaries)
  for (const [slot, encoded] of summary.ran) {
    const ran = Buffer.from(encoded, 'base64');
    const sum = ranBySlot.get(slot) ?? new Uint16Array(n);
    for (let i = 0; i < n; i++) sum[i] += ran[i];
    ranBySlot.set(slot, sum);
  }
let misses = 0;
let duplicates = 0;
for (const t of due.keys()) {
  const sum = ranBySlot.get(t) ?? new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    if (values.spread && i % 60 !== new Date(t).getUTCSeconds()) continue;
    if (sum[i] === 0) misses++;
    else duplicates += sum[i] - 1;
  }
}
const lateness = summaries
  .flatMap((summary) => summary.lateness.filter((_, i) => summary.latenessSlot[i] > from && summary.latenessSlot[i] <= to))
  .sort((a, b) => a - b);
const pct = (list, p) => (list.length ? list[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] : NaN);
const sortedChanges = [...changes].sort((a, b) => a - b);

const shape = values.spread ? '"S * * * * *", S = i % 60' : '"* * * * *"';
console.log(
  `runtime-schedules bench: store=${values.store} schedules=${n} over ${jobCount} jobs (${shape}) daemons=${daemonCount} maxConcurrentRuns=${concurrency} window=${seconds}s, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${cpus().length} cores, Node ${process.version}`,
);
console.log(`  stored in ${(loadMs / 1000).toFixed(1)} s (upsertSchedules, 1,000 per call)`);
for (const [d, summary] of summaries.entries()) {
  const { loaded } = readinesses[d];
  console.log(
    `  daemon${daemonCount === 1 ? '' : ` ${d}`}: createDaemon → ready ${summary.readyMs.toFixed(0)} ms (${loaded.runtime} runtime + ${loaded.code} code schedules), RSS after ready ${(summary.rssReady / 1048576).toFixed(0)} MB, max RSS ${(summary.maxRss / 1048576).toFixed(0)} MB, CPU ${summary.cpuS.toFixed(1)} s`,
  );
}
console.log(
  `  slot instants in window: ${due.size}; slots due: ${[...due.values()].reduce((a, b) => a + b, 0)}; runs timed: ${lateness.length}; misses: ${misses}; duplicates: ${duplicates}`,
);
console.log(
  `  lateness ms: p50 ${pct(lateness, 50).toFixed(2)}  p99 ${pct(lateness, 99).toFixed(2)}  max ${(lateness.at(-1) ?? NaN).toFixed(2)}`,
);
console.log(
  `  upsert → first run ms (${changes.length} samples): p50 ${pct(sortedChanges, 50).toFixed(0)}  max ${(sortedChanges.at(-1) ?? NaN).toFixed(0)}  [${changes.map((c) => c.toFixed(0)).join(', ')}]`,
);

await store.close();
if (values.store === 'pg') execFileSync('psql', [pgUrl, '-q', '-c', `DROP SCHEMA IF EXISTS "${spec.schema}" CASCADE`], { stdio: 'ignore' });
if (values.store === 'redis') {
  dropRedisPrefix(redisUrl, spec.prefix);
}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
