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
// --trace: every store call as [method, startMs, durationMs, items, outcomes], and the event loop's delay per 250 ms.
const calls = [];
const loopDelay = [];
function traced(store) {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string' || name === 'subscribe' || name === 'close') return value;
      return (...args) => {
        const t0 = nowMs();
        const items = Array.isArray(args[0]) ? args[0].length : -1;
        const done = (result, failed) => {
          let outcomes = failed ? 'error' : '';
          if (name === 'claimSlots' && Array.isArray(result)) {
            const byOutcome = {};
            for (const o of result) byOutcome[o.status] = (byOutcome[o.status] ?? 0) + 1;
            outcomes = JSON.stringify(byOutcome);
          }
          calls.push([name, t0, nowMs() - t0, items, outcomes]);
        };
        const result = value.apply(target, args);
        if (result && typeof result.then === 'function')
          result.then(
            (r) => done(r, false),
            () => done(undefined, true),
          );
        else done(result, false);
        return result;
      };
    },
  });
}
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
if (spec.trace) {
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  setInterval(() => {
    loopDelay.push([nowMs(), h.max / 1e6]);
    h.reset();
  }, 250).unref();
}
const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250);
const daemon = createDaemon({
  config: {
    jobs,
    store: spec.trace ? async () => traced(await openStore()) : openStore,
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
  writeFileSync(
    spec.out,
    JSON.stringify({
      runnerId: spec.runnerId,
      readyMs,
      cpuS: (cpu.user + cpu.system) / 1e6,
      maxRss,
      runs,
      ...(spec.trace ? { calls, loopDelay } : {}),
    }),
  );
  process.exit(0);
});
