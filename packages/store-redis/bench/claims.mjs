// Claims + completions per second with 1, 4 and 16 concurrent claimants (each its own store
// and connection) over 2,000 runtime schedules, and the idle cost of a subscribed store holding 1,000 schedule states.
// Usage: node bench/claims.mjs   (after `npx tsc -p tsconfig.build.json`; Redis at TICKWORK_REDIS_URL)
// BENCH_REPLICAS=1 node bench/claims.mjs: on a private primary + replica (two redis-server
// processes on free loopback ports, stopped at the end), each claimant count without and with
// `replicas: { count: 1 }`, alternating; no idle measurement.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisStore } from '../dist/index.js';

const withReplica = process.env.BENCH_REPLICAS === '1';
const servers = [];

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server (optionally a replica of `primaryPort`), answering and, for a replica, linked. */
async function privateRedis(primaryPort) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-'));
  const replica = primaryPort ? ['--replicaof', '127.0.0.1', String(primaryPort)] : [];
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--repl-diskless-sync-delay',
      '0',
      ...replica,
    ],
    { stdio: 'ignore' },
  );
  servers.push({ child, dir });
  const client = new Redis(port, '127.0.0.1', { retryStrategy: () => 50 });
  client.on('error', () => {});
  for (;;) {
    const info = await client.info('replication').catch(() => '');
    if (info && (!primaryPort || info.includes('master_link_status:up'))) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  client.disconnect();
  return port;
}

const primaryPort = withReplica ? await privateRedis() : null;
if (primaryPort) await privateRedis(primaryPort);
const url = primaryPort ? `redis://127.0.0.1:${primaryPort}` : (process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379');
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

async function claimThroughput(claimants, options = {}) {
  const prefix = `twbench-${randomBytes(4).toString('hex')}`;
  const stores = Array.from({ length: claimants }, () => createRedisStore({ url, prefix, ...options }));
  const refs = Array.from({ length: SCHEDULES }, (_, i) => ({ code: `job-${i % 100}`, key: `k${i}` }));
  // Runtime schedules (claims of their keys check each one's hash), created 1,000 per call.
  const inputs = refs.map((ref) => ({
    ...ref,
    schedule: { kind: 'cron', expression: '* * * * *' },
    timezone: null,
    payload: null,
    enabled: true,
    startAt: null,
    expiresAt: null,
    description: null,
    options: {},
  }));
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
          if (leases.length)
            await store.completeRuns(leases.map((lease) => ({ lease, status: 'succeeded', finishedAt: new Date(slotAt.getTime() + 10) })));
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
    list
      .split('\n')
      .filter((line) => line.includes(` name=tickwork:${prefix}:`))
      .map((line) => /addr=(\S+)/.exec(line)?.[1]),
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

const report = (r, label = '') =>
  console.log(
    `claimants=${r.claimants}${label}  slots won+completed=${r.won}  claim attempts=${r.attempts}  ${r.seconds.toFixed(2)} s  ` +
      `won+completed/s=${Math.round(r.wonPerSecond)}  claim attempts/s=${Math.round(r.attemptsPerSecond)}`,
  );
for (const claimants of (process.env.BENCH_CLAIMANTS ?? (withReplica ? '1,4' : '1,4,16')).split(',').filter(Boolean).map(Number)) {
  if (!withReplica) report(await claimThroughput(claimants));
  else
    for (const replicas of [undefined, { count: 1, timeoutMs: 1_000 }, undefined, { count: 1, timeoutMs: 1_000 }]) {
      report(await claimThroughput(claimants, replicas ? { replicas } : {}), replicas ? '  replicas=1' : '  replicas=none');
    }
}
/** Round trip of one single-slot claim (then its completion), sequentially, one store: median and p99 ms. */
async function callLatency(options, calls = 500) {
  const prefix = `twbench-lat-${randomBytes(4).toString('hex')}`;
  const store = createRedisStore({ url, prefix, ...options });
  await store.ping();
  const times = [];
  for (let i = 0; i < calls; i += 1) {
    const slotAt = new Date(base + i * 1_000);
    const started = performance.now();
    const [outcome] = await store.claimSlots(
      [{ code: 'latency', key: '', slotAt, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 }],
      { runnerId: 'bench', now: slotAt },
    );
    times.push(performance.now() - started);
    await store.completeRuns([{ lease: outcome.lease, status: 'succeeded', finishedAt: new Date(slotAt.getTime() + 10) }]);
  }
  await store.close();
  await dropPrefix(prefix);
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(calls / 2)], p99: times[Math.floor(calls * 0.99)] };
}
if (withReplica) {
  for (const replicas of [undefined, { count: 1, timeoutMs: 1_000 }, undefined, { count: 1, timeoutMs: 1_000 }]) {
    const { median, p99 } = await callLatency(replicas ? { replicas } : {});
    console.log(
      `one-slot claim round trip${replicas ? '  replicas=1' : '  replicas=none'}: median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
    );
  }
} else {
  const idle = await idleCost(1_000, 10);
  console.log(
    `idle: ${idle.states} states, subscribed, ${idle.seconds} s, ${idle.connections} connections: ${idle.commands} commands ` +
      `(${idle.commandsPerSecondPerJob} commands/s per scheduled job)`,
  );
}
admin.disconnect();
for (const { child, dir } of servers.reverse()) {
  child.kill('SIGTERM');
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve()));
  rmSync(dir, { recursive: true, force: true });
}
