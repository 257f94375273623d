/**
 * Issue #15's outage, on a PostgreSQL server of the test's own: stopped with its own
 * command (`pg_ctl stop`, fast mode) while a runner-like loop claims and completes, kept
 * down for 8 s, started again. The store must fail fast while it is down (never hang),
 * never crash the process, and answer again — pool and LISTEN connection — by itself.
 */
import { StoreUnavailableError } from '@tickwork/core';
import type { StoreChange } from '@tickwork/core/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, type SqlStore, type SqlStoreOptions } from '../src/index.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';

const OUTAGE_MS = 8_000;
/** Generous bound for "answers again promptly": the store itself needs a fresh connection, a few ms. */
const RECOVERY_BOUND_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `probe` until it resolves, for at most `boundMs`; returns the first success, or throws the last error. */
async function firstSuccessWithin<T>(boundMs: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + boundMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (error) {
      last = error;
      await sleep(50);
    }
  }
  throw new Error(`no successful call within ${boundMs} ms of the restart; last error: ${String(last)}`, { cause: last });
}

describe('PostgreSQL stopped for 8 s and started again (private server)', () => {
  let server: PrivatePostgres;
  let options: SqlStoreOptions;
  beforeAll(async () => {
    server = await startPrivatePostgres();
    options = { driver: 'postgresql', clientUrl: server.url, schema: 'tickwork', poolSize: 4 };
    await migrate(options);
  }, 120_000);
  afterAll(async () => {
    await server?.destroy();
  }, 120_000);

  it('fails fast while down, never crashes, and claims, completes and delivers changes again right after the restart', {
    timeout: 120_000,
  }, async () => {
    const store: SqlStore = createSqlStore(options);
    const writer = createSqlStore(options);
    const changes: StoreChange[] = [];
    const unsubscribe = await store.subscribe!((change) => changes.push(change));
    try {
      // A runner's loop: every 20 ms one claim batch of 5 slots, and their completion.
      let stopLoop = false;
      let n = 0;
      const completed = new Set<string>();
      const failures: unknown[] = [];
      const loop = (async () => {
        while (!stopLoop) {
          const slotAt = new Date(Date.UTC(2031, 0, 1) + n * 1000);
          n += 1;
          try {
            const outcomes = await store.claimSlots(
              Array.from({ length: 5 }, (_, i) => ({
                code: `job-${i}`,
                key: '',
                slotAt,
                attempt: 1,
                trigger: 'schedule' as const,
                overlap: 'allowAll' as const,
                leaseMs: 30_000,
              })),
              { runnerId: 'runner', now: slotAt },
            );
            const leases = outcomes.flatMap((o) => (o.status === 'claimed' ? [o.lease] : []));
            const done = await store.completeRuns(leases.map((lease) => ({ lease, status: 'succeeded' as const, finishedAt: slotAt })));
            for (const d of done) if (d.status === 'completed') completed.add(d.run.id);
          } catch (error) {
            failures.push(error);
          }
          await sleep(20);
        }
      })();
      await firstSuccessWithin(RECOVERY_BOUND_MS, async () => {
        if (completed.size < 20) throw new Error('warming up');
      });

      await server.stop();
      // Down: every call settles, with StoreUnavailableError (a refused connection fails at once, never waits).
      const down = await store.ping().catch((error: unknown) => error);
      expect(down).toBeInstanceOf(StoreUnavailableError);
      expect((down as Error).message).toMatch(/\[tickwork\] \[store-sql\] ping: cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/postgres/);
      await sleep(OUTAGE_MS);
      const beforeRestart = completed.size;
      await server.start();

      // Up again: the same store instance answers, with no reopen, within the bound.
      await firstSuccessWithin(RECOVERY_BOUND_MS, () => store.ping());
      await firstSuccessWithin(RECOVERY_BOUND_MS, async () => {
        if (completed.size < beforeRestart + 20)
          throw new Error(`the loop completed ${completed.size - beforeRestart} runs since the restart`);
      });
      // The LISTEN connection is back too: a change made after the restart arrives.
      await firstSuccessWithin(RECOVERY_BOUND_MS, async () => {
        await writer.setPaused({ code: 'after-restart', key: '' }, true, { now: new Date() });
        await sleep(200);
        if (!changes.some((c) => c.code === 'after-restart')) throw new Error('no change delivered yet');
      });
      stopLoop = true;
      await loop;

      // Every failure the loop saw was the store saying it was unavailable, and nothing it completed was lost.
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.filter((f) => !(f instanceof StoreUnavailableError))).toEqual([]);
      const logged = await writer.queryRuns({ status: 'succeeded', limit: 1000 });
      const ids = new Set<string>();
      for (let page = logged; ; page = await writer.queryRuns({ status: 'succeeded', limit: 1000, cursor: page.nextCursor! })) {
        for (const run of page.runs) ids.add(run.id);
        if (!page.nextCursor) break;
      }
      expect([...completed].filter((id) => !ids.has(id))).toEqual([]);
    } finally {
      await unsubscribe();
      await store.close();
      await writer.close();
    }
  });
});
