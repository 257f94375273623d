// Start-up of one daemon with N schedules: time from createDaemon() to ready (states ensured in
// the store, next slots computed, timer armed) and the RSS it then holds.
// Usage: node --expose-gc bench/startup.mjs [--jobs 100000] [--store memory|pg]   (build first)
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createMemoryStore, defineJob, silentLogger } from '@tickwork/core';
import { createDaemon } from '../dist/index.js';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '100000' }, store: { type: 'string', default: 'memory' } } });
const n = Number(values.jobs);
const pgUrl = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `tw_startup_${process.pid}`;

let store;
if (values.store === 'pg') {
  const { migrate, createSqlStore } = await import('@tickwork/store-sql');
  await migrate({ driver: 'postgresql', clientUrl: pgUrl, schema });
  store = createSqlStore({ driver: 'postgresql', clientUrl: pgUrl, schema });
} else {
  store = createMemoryStore();
}

// A realistic mix: minute crons, hourly and daily crons at spread times, intervals.
const schedule = (i) =>
  i % 4 === 0
    ? '* * * * *'
    : i % 4 === 1
      ? `${i % 60} * * * *`
      : i % 4 === 2
        ? `${i % 60} ${i % 24} * * *`
        : { kind: 'every', everyMs: 60_000 * (1 + (i % 30)) };
global.gc?.();
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const jobs = Array.from({ length: n }, (_, i) => defineJob({ code: `s-${i}`, schedule: schedule(i), run: () => undefined }));
const defined = performance.now();
const daemon = createDaemon({ jobs, store }, { logger: silentLogger, maxConcurrentRuns: 1000, preClaimMs: 500 });
await daemon.ready;
const ready = performance.now();
global.gc?.();
const rss = process.memoryUsage().rss;
const health = await daemon.health();
console.log(`startup bench: ${n} schedules, store=${values.store}, Node ${process.version}`);
console.log(
  `  defineJob ×${n}: ${(defined - t0).toFixed(0)} ms; createDaemon → ready: ${(ready - defined).toFixed(0)} ms; total ${(ready - t0).toFixed(0)} ms`,
);
console.log(
  `  RSS after ready: ${(rss / 1048576).toFixed(0)} MB (+${((rss - rss0) / 1048576).toFixed(0)} MB, ${((rss - rss0) / n / 1024).toFixed(2)} KB per schedule); scheduled ${health.scheduled}, healthy ${health.ok}`,
);
await daemon.stop();
await store.close();
if (values.store === 'pg') execFileSync('psql', [pgUrl, '-q', '-c', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], { stdio: 'ignore' });
process.exit(0);
