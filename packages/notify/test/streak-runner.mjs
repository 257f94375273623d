// One runner of the always-failing job `reports.pg`, as the test process and its child process
// each build it: the same definition, each with its own notify() (nothing shared in memory).
import { defineJob, every, runDue } from '@tickwork/core';

/** A runner whose tick runs what is due and reports failures through `notify` (src or dist). */
export function streakRunner({ notify, store, clock, hookUrl, runnerId }) {
  const alerts = notify({ webhook: { url: hookUrl }, remindEvery: '10m', store, clock });
  const job = defineJob({
    code: 'reports.pg',
    schedule: every('1m'),
    onFailure: alerts.onFailure,
    run() {
      throw new Error('reporting database unreachable');
    },
  });
  return {
    tick: async () => (await runDue({ jobs: [job], store, clock, runnerId })).results.map((r) => r.outcome),
    close: () => alerts.close(),
  };
}

/** Opens the shared store both processes use: a PostgreSQL schema or a Redis key prefix named `name`. */
export async function openStore({ kind, url, name }) {
  if (kind === 'postgresql') {
    const { createSqlStore } = await import('@tickwork/store-sql');
    return createSqlStore({ driver: 'postgresql', clientUrl: url, schema: name, poolSize: 2 });
  }
  const { createRedisStore } = await import('@tickwork/store-redis');
  return createRedisStore({ url, prefix: name });
}
