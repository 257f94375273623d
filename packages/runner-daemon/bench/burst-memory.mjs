// Where a daemon's memory goes at a burst: N runtime schedules (`* * * * *`, over J jobs with
// `schedule: null`, missed-run policy `skip`) in Redis under one key prefix (kept between runs with
// --prefix: stored once, reused; without --prefix, or with --drop, deleted at the end), ONE daemon in this process with `maxConcurrentRuns` N + 100, and
// `process.memoryUsage()` by phase: before the daemon, after ready (after a GC), the burst of the next
// :00 (max RSS and heap used, sampled every 20 ms), after it (GC).
// --timeline prints the figures once a second from 10 s before the instant. --snapshot-ms T writes a heap snapshot T ms after the instant (it stops the process for a while).
// Usage: node --expose-gc bench/burst-memory.mjs [--schedules 100000] [--jobs 100] [--prefix P] [--drop]
//        (build first: npx tsc -p tsconfig.build.json)
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { createScheduler, defineJob } from '@tickwork/core';
import { createRedisStore } from '@tickwork/store-redis';
import { pino } from 'pino';
import { createDaemon } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    schedules: { type: 'string', default: '100000' },
    jobs: { type: 'string', default: '100' },
    prefix: { type: 'string' },
    drop: { type: 'boolean', default: false },
    'snapshot-ms': { type: 'string' },
    timeline: { type: 'boolean', default: false },
  },
});
const n = Number(values.schedules);
const jobCount = Number(values.jobs);
const url = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = values.prefix ?? `tw-bench-burst-${process.pid}`;
const mb = (bytes) => `${(bytes / 1048576).toFixed(0)} MB`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const gcNow = () => {
  global.gc?.();
  global.gc?.();
};

let ran = 0;
let instant = null;
const jobs = Array.from({ length: jobCount }, (_, j) =>
  defineJob({
    code: `burst-${j}`,
    schedule: null,
    missedRunPolicy: 'skip',
    run: (ctx) => {
      if (instant !== null && ctx.slot.getTime() === instant) ran++;
    },
  }),
);
const setup = createRedisStore({ url, prefix });
const scheduler = createScheduler({ jobs, store: setup });
const { schedules: existing } = await setup.listSchedules({ limit: 1 });
if (existing.length === 0) {
  const t0 = performance.now();
  for (let j = 0; j < jobCount; j++) {
    const keys = [];
    for (let i = j; i < n; i += jobCount) keys.push(i);
    for (let k = 0; k < keys.length; k += 1000)
      await scheduler
        .schedules(`burst-${j}`)
        .upsert(keys.slice(k, k + 1000).map((i) => ({ key: `s-${i}`, schedule: '* * * * *', payload: { i } })));
  }
  console.log(`stored ${n} schedules under ${prefix} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
await setup.close();

gcNow();
const base = process.memoryUsage();
const daemon = createDaemon({
  config: {
    jobs,
    store: () => createRedisStore({ url, prefix }),
    runnerId: `bench-burst-${process.pid}`,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    maxConcurrentRuns: n + 100,
    http: null,
  },
});
const t0 = performance.now();
await daemon.ready;
const readyMs = performance.now() - t0;
gcNow();
const ready = process.memoryUsage();
// The next :00 at least 8 s away (the daemon claims ahead of it).
let next = Math.ceil(Date.now() / 60_000) * 60_000;
if (next - Date.now() < 8_000) next += 60_000;
instant = next;
let maxRss = 0;
let maxHeap = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  maxRss = Math.max(maxRss, m.rss);
  maxHeap = Math.max(maxHeap, m.heapUsed);
  const t = Date.now() - next;
  if (values.timeline && t > -10_000 && Math.floor(t / 1000) !== lastSecond) {
    lastSecond = Math.floor(t / 1000);
    console.log(`  t=${(t / 1000).toFixed(1)} s: RSS ${mb(m.rss)}, heap used ${mb(m.heapUsed)}, ran ${ran}`);
  }
}, 20);
let lastSecond = null;
if (values['snapshot-ms'] !== undefined) {
  setTimeout(() => console.log(`heap snapshot: ${writeHeapSnapshot()}`), next + Number(values['snapshot-ms']) - Date.now());
}
const cpu0 = process.cpuUsage();
while (ran < n && Date.now() < next + 60_000) await sleep(50);
const burstMs = Date.now() - next;
const cpu = process.cpuUsage(cpu0);
await sleep(2_000);
clearInterval(sampler);
gcNow();
const after = process.memoryUsage();
await daemon.stop();
console.log(
  `burst-memory: ${n} runtime schedules over ${jobCount} jobs, one daemon, Redis; load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, Node ${process.version}`,
);
console.log(`  before the daemon (after GC): RSS ${mb(base.rss)}, heap used ${mb(base.heapUsed)}`);
console.log(`  ready in ${readyMs.toFixed(0)} ms (after GC): RSS ${mb(ready.rss)}, heap used ${mb(ready.heapUsed)}`);
console.log(
  `  burst: ${ran} runs of the instant, last started ${burstMs} ms after it; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; max RSS ${mb(maxRss)}, max heap used ${mb(maxHeap)}`,
);
console.log(`  after the burst (after GC): RSS ${mb(after.rss)}, heap used ${mb(after.heapUsed)}`);
// A prefix of this process's own (no --prefix) can never be reused: its schedules go too.
if (values.drop || values.prefix === undefined) {
  const { dropRedisPrefix } = await import('./drop-redis-prefix.mjs');
  dropRedisPrefix(url, prefix);
}
process.exit(0);
