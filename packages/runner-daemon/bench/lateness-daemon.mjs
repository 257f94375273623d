// One daemon of bench/lateness.mjs: N jobs on one cron schedule; each handler records when it
// started relative to its slot. On SIGTERM it stops and writes a summary JSON to TW_BENCH.out.
import { writeFileSync } from 'node:fs';
import { defineJob } from '@tickwork/core';
import { pino } from 'pino';
import { createDaemon } from '../dist/index.js';

const spec = JSON.parse(process.env.TW_BENCH ?? '{}');
const started = performance.now();
const nowMs = () => performance.timeOrigin + performance.now();

async function openStore() {
  if (spec.store.kind === 'postgresql') {
    const { createSqlStore } = await import('@tickwork/store-sql');
    return createSqlStore({ driver: 'postgresql', clientUrl: spec.store.url, schema: spec.store.schema, poolSize: 4 });
  }
  if (spec.store.kind === 'memory') {
    const { createMemoryStore } = await import('@tickwork/core');
    return createMemoryStore();
  }
  const { createRedisStore } = await import('@tickwork/store-redis');
  return createRedisStore({ url: spec.store.url, prefix: spec.store.prefix });
}

const runs = []; // [jobIndex, slotMs, latenessMs]
const jobs = Array.from({ length: spec.jobs }, (_, i) =>
  defineJob({
    code: `bench-${i}`,
    schedule: spec.schedule,
    run: (ctx) => {
      const slot = ctx.slot.getTime();
      runs.push([i, slot, nowMs() - slot]);
    },
  }),
);

let maxRss = 0;
const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250);
const daemon = createDaemon({
  config: {
    jobs,
    store: openStore,
    runnerId: spec.runnerId,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    ...(spec.maxConcurrentRuns ? { maxConcurrentRuns: spec.maxConcurrentRuns } : {}),
    daemon: { preClaimMs: spec.preClaimMs ?? 500 },
  },
});
daemon.done.catch((error) => {
  console.error(String(error));
  process.exit(2);
});
await daemon.ready;
const readyMs = performance.now() - started;
maxRss = Math.max(maxRss, process.memoryUsage().rss);
process.stdout.write(`ready ${JSON.stringify({ readyMs, rss: process.memoryUsage().rss })}\n`);
process.on('SIGTERM', async () => {
  await daemon.stop();
  clearInterval(sampler);
  const cpu = process.cpuUsage();
  writeFileSync(spec.out, JSON.stringify({ runnerId: spec.runnerId, readyMs, cpuS: (cpu.user + cpu.system) / 1e6, maxRss, runs }));
  process.exit(0);
});
