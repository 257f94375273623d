// Claims + completions per second with 1, 4 and 16 concurrent claimants (each its own store
// and connection) over 2,000 runtime schedules, and the idle cost of a subscribed store holding 1,000 schedule states.
// Usage: node bench/claims.mjs   (after `npx tsc -p tsconfig.build.json`; Redis at TICKWORK_REDIS_URL)
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisStore } from '../dist/index.js';

const url = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin = new Redis(url);
const base = Date.parse('2030-01-07T00:00:00.000Z');
const BATCH = 100;
const SCHEDULES = 2_000;
const ROUNDS = 10;

async function dropPrefix(prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await admin.unlink(...keys);
  } while (cursor !== '0');
}

async function claimThroughput(claimants) {
  const prefix = `twbench-${randomBytes(4).toString('hex')}`;
  const stores = Array.from({ length: claimants }, () => createRedisStore({ url, prefix }));
  const refs = Array.from({ length: SCHEDULES }, (_, i) => ({ code: `job-${i % 100}`, key: `k${i}` }));
  // Runtime schedules (claims of their keys check each one's hash), created 1,000 per call.
  const inputs = refs.map((ref) => ({ ...ref, schedule: { kind: 'cron', expression: '* * * * *' }, timezone: null, payload: null, enabled: true, startAt: null, expiresAt: null, description: null, options: {} }));
  for (let i = 0; i < inputs.length; i += 1_000) await stores[0].upsertSchedules(inputs.slice(i, i + 1_000), new Date(base));
  await Promise.all(stores.map((store) => store.ping()));
  let claimed = 0;
  const started = performance.now();
  // Every claimant claims every slot of every round (so they contend), in batches of BATCH; winners complete at once.
  await Promise.all(
    stores.map(async (store, s) => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const slotAt = new Date(base + round * 60_000);
        for (let start = 0; start < refs.length; start += BATCH) {
          const offset = (start + s * BATCH * 3) % refs.length;
          const batch = refs.slice(offset, offset + BATCH);
          const outcomes = await store.claimSlots(
            batch.map((ref) => ({ ...ref, slotAt, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 })),
            { runnerId: `bench-${s}`, now: slotAt },
          );
          const leases = outcomes.filter((o) => o.status === 'claimed').map((o) => o.lease);
          claimed += leases.length;
          if (leases.length) await store.completeRuns(leases.map((lease) => ({ lease, status: 'succeeded', finishedAt: new Date(slotAt.getTime() + 10) })));
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  const attempts = claimants * SCHEDULES * ROUNDS;
  await Promise.all(stores.map((store) => store.close()));
  await dropPrefix(prefix);
  return { claimants, won: claimed, attempts, seconds, wonPerSecond: claimed / seconds, attemptsPerSecond: attempts / seconds };
}

async function idleCost(states, seconds) {
  const prefix = `twbench-idle-${randomBytes(4).toString('hex')}`;
  const store = createRedisStore({ url, prefix });
  const refs = Array.from({ length: states }, (_, i) => ({ code: `idle-${i % 50}`, key: `k${i}` }));
  await store.ensureStates(refs, new Date(base));
  await store.subscribe(() => {});
  const list = await admin.client('LIST');
  const addrs = new Set(
    list.split('\n').filter((line) => line.includes(` name=tickwork:${prefix}:`)).map((line) => /addr=(\S+)/.exec(line)?.[1]),
  );
  const monitor = await admin.monitor();
  let commands = 0;
  let counting = true;
  monitor.on('monitor', (_time, _args, source) => {
    if (counting && addrs.has(source)) commands += 1;
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
  // Stop before close(): its QUIT commands are not idle cost.
  counting = false;
  monitor.disconnect();
  await store.close();
  await dropPrefix(prefix);
  return { states, seconds, connections: addrs.size, commands, commandsPerSecondPerJob: commands / seconds / states };
}

for (const claimants of (process.env.BENCH_CLAIMANTS ?? "1,4,16").split(",").map(Number)) {
  const r = await claimThroughput(claimants);
  console.log(
    `claimants=${r.claimants}  slots won+completed=${r.won}  claim attempts=${r.attempts}  ${r.seconds.toFixed(2)} s  ` +
      `won+completed/s=${Math.round(r.wonPerSecond)}  claim attempts/s=${Math.round(r.attemptsPerSecond)}`,
  );
}
const idle = await idleCost(1_000, 10);
console.log(
  `idle: ${idle.states} states, subscribed, ${idle.seconds} s, ${idle.connections} connections: ${idle.commands} commands ` +
    `(${idle.commandsPerSecondPerJob} commands/s per scheduled job)`,
);
admin.disconnect();
