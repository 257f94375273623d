// The daemon of bench/runtime-schedules.mjs: J jobs with `schedule: null` whose runtime schedules
// are in the store. Prints `ready {…}` once ready and `probe <key> <epoch ms>` when a probe schedule's
// run starts; on SIGTERM stops and writes a summary JSON to TW_BENCH.out.
import { writeFileSync } from 'node:fs';
import { defineJob } from '@tickwork/core';
import { pino } from 'pino';
import { createDaemon } from '../dist/index.js';

const spec = JSON.parse(process.env.TW_BENCH ?? '{}');
const nowMs = () => performance.timeOrigin + performance.now();

async function openStore() {
  if (spec.store.kind === 'postgresql') {
    const { createSqlStore } = await import('@tickwork/store-sql');
    return createSqlStore({ driver: 'postgresql', clientUrl: spec.store.url, schema: spec.store.schema, poolSize: 4 });
  }
  const { createRedisStore } = await import('@tickwork/store-redis');
  return createRedisStore({ url: spec.store.url, prefix: spec.store.prefix });
}

// Compact records: a summary of 100,000 runs a minute must not be what the RSS measures.
const lateness = [];
const latenessSlot = [];
// Runs per schedule and instant (one byte each: 100 KB an instant at 100,000 schedules), for exact duplicates and misses.
const ranBySlot = new Map();
const jobs = Array.from({ length: spec.jobs }, (_, j) =>
  defineJob({
    code: `rt-${j}`,
    schedule: null,
    run: (ctx) => {
      const slot = ctx.slot.getTime();
      if (ctx.key.startsWith('probe-')) {
        process.stdout.write(`probe ${ctx.key} ${Date.now()}\n`);
        return;
      }
      let ran = ranBySlot.get(slot);
      if (!ran) {
        ran = new Uint8Array(spec.schedules);
        ranBySlot.set(slot, ran);
      }
      ran[ctx.payload.i] = Math.min(255, ran[ctx.payload.i] + 1);
      if (ctx.trigger === 'schedule') {
        lateness.push(nowMs() - slot);
        latenessSlot.push(slot);
      }
    },
  }),
);

let maxRss = 0;
const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250);
const started = performance.now();
const daemon = createDaemon({
  config: {
    jobs,
    store: openStore,
    runnerId: spec.runnerId,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    maxConcurrentRuns: spec.concurrency,
  },
});
daemon.done.catch((error) => {
  console.error(String(error));
  process.exit(2);
});
await daemon.ready;
const readyMs = performance.now() - started;
global.gc?.();
const rssReady = process.memoryUsage().rss;
maxRss = Math.max(maxRss, rssReady);
const { schedules: loaded } = await daemon.health();
process.stdout.write(`ready ${JSON.stringify({ readyMs, rss: rssReady, loaded })}\n`);
process.on('SIGTERM', async () => {
  await daemon.stop();
  clearInterval(sampler);
  const cpu = process.cpuUsage();
  writeFileSync(
    spec.out,
    JSON.stringify({
      readyMs,
      rssReady,
      maxRss,
      cpuS: (cpu.user + cpu.system) / 1e6,
      lateness,
      latenessSlot,
      ran: [...ranBySlot].map(([slot, ran]) => [slot, Buffer.from(ran).toString('base64')]),
    }),
  );
  process.exit(0);
});
