// The Tickwork config every chaos runner loads (daemons and `tickwork run` alike), built
// from environment variables the harness sets. Every handler start is appended to this
// process's own ledger file, outside the store under test.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from '@tickwork/core';

const env = process.env;
const jobCount = Number(env.CHAOS_JOBS ?? '2');
const jobMs = Number(env.CHAOS_JOB_MS ?? '50');
const runner = env.CHAOS_RUNNER_ID ?? `runner-${process.pid}`;
const ledger = join(env.CHAOS_LEDGER_DIR ?? '.', `${runner}.${process.pid}.ndjson`);

// CHAOS_PRESENCE=off: the store as a runner without runner presence sees it (no heartbeat, no
// dead-runner reaping), so a killed daemon's runs end only with their leases — the comparison run.
function withoutPresence(store) {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'heartbeat' || property === 'listRunners') return undefined;
      if (property === 'capabilities') return { changeSubscription: target.capabilities.changeSubscription };
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function storeFactory() {
  return openStore().then((store) => (env.CHAOS_PRESENCE === 'off' ? withoutPresence(store) : store));
}

function openStore() {
  const [kind, ...rest] = (env.CHAOS_STORE ?? '').split(':');
  const target = rest.join(':');
  if (kind === 'sqlite')
    return import('@tickwork/store-sql').then((m) => m.createSqlStore({ driver: 'sqlite', dbName: target, busyTimeoutMs: 10_000 }));
  if (kind === 'pg')
    return import('@tickwork/store-sql').then((m) =>
      m.createSqlStore({
        driver: 'postgresql',
        clientUrl: env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        schema: target,
        poolSize: 3,
      }),
    );
  if (kind === 'redis')
    return import('@tickwork/store-redis').then((m) =>
      m.createRedisStore({ url: env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: target }),
    );
  throw new Error(`[tickwork] [chaos] CHAOS_STORE must be sqlite:<file>, pg:<schema> or redis:<prefix>, got "${env.CHAOS_STORE}"`);
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

const jobs = Array.from({ length: jobCount }, (_, i) => ({
  code: `chaos.j${i}`,
  schedule: env.CHAOS_SCHEDULE ?? '* * * * * *',
  allowParallelRuns: env.CHAOS_ALLOW_PARALLEL === '1',
  leaseTtl: env.CHAOS_LEASE_TTL ?? '3s',
  missedRunPolicy: env.CHAOS_MISSED_POLICY ? JSON.parse(env.CHAOS_MISSED_POLICY) : 'latest',
  async run(ctx) {
    const line = {
      event: 'start',
      code: ctx.code,
      slot: ctx.slot.getTime(),
      attempt: ctx.attempt,
      runId: ctx.runId,
      runner,
      pid: process.pid,
      at: Date.now(),
    };
    appendFileSync(ledger, `${JSON.stringify(line)}\n`);
    await sleep(jobMs, ctx.signal);
    appendFileSync(ledger, `${JSON.stringify({ ...line, event: 'end', at: Date.now(), aborted: ctx.signal.aborted })}\n`);
  },
}));

export default defineConfig({ jobs, store: storeFactory, runnerId: runner, retention: null });
