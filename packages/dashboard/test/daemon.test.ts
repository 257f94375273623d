import { afterEach, expect, it } from 'vitest';
import { createMemoryStore, defineJob, silentLogger, systemClock } from '@tickwork/core';
import { createDaemon, type DaemonHandle } from '@tickwork/runner-daemon';
import { startHarness, type Harness } from './support.js';

let h: Harness | undefined;
let daemon: DaemonHandle | undefined;
afterEach(async () => {
  await daemon?.stop();
  await h?.close();
});

async function until<T>(read: () => Promise<T | undefined>, what: string, limitMs = 90_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('a runtime schedule created in the dashboard is run by a running daemon with its payload, without restart; a pause there stops it', async () => {
  const seen: unknown[] = [];
  const jobs = [defineJob({ code: 'tenant.sync', schedule: null, run: (ctx) => void seen.push(ctx.payload) })];
  const store = createMemoryStore();
  h = await startHarness({ store, jobs, clock: systemClock });
  daemon = createDaemon({ jobs, store, logger: silentLogger, http: null, pollIntervalMs: 100 });
  await daemon.ready;
  const admin = await h.client('admin');
  const created = await admin.send('PUT', 'api/jobs/tenant.sync/schedules/acme', {
    kind: 'every',
    every: '1s',
    payload: '{"tenant":"acme"}',
  });
  expect(created.status).toBe(201);
  // The handler's call comes before its completion is stored: wait for the store's record of two successes.
  const runs = await until(async () => {
    const { runs } = await store.queryRuns({ code: 'tenant.sync', key: 'acme', status: 'succeeded' });
    return runs.length >= 2 ? runs : undefined;
  }, 'the store to hold two succeeded runs of the new schedule');
  expect(runs.every((run) => run.trigger === 'schedule')).toBe(true);
  expect(seen.slice(0, 2)).toEqual([{ tenant: 'acme' }, { tenant: 'acme' }]);

  expect((await admin.send('POST', 'api/jobs/tenant.sync/schedules/acme/pause', { note: 'tenant on hold' })).status).toBe(200);
  // Once the pause is stored the store refuses every claim; a slot claimed ahead of its instant
  // before that (the daemon pre-claims at most 5 s ahead) may still start, so look after that margin.
  await until(
    async () => ((await store.getStates([{ code: 'tenant.sync', key: 'acme' }]))[0]?.paused ? true : undefined),
    'the pause to be stored',
  );
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const settled = seen.length;
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  expect(seen.length).toBe(settled);
  const { entries } = await h.store.listAudit();
  expect(entries.map((e) => e.action)).toEqual(['schedule.pause', 'schedule.create']);
});
