import { StoreUnavailableError } from '@tickwork/core';
import type { ClaimOutcome, SlotClaim, StoreChange } from '@tickwork/core/store';
import type { PoolClient } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ownPool, PgConnection } from '../src/connection/pg.js';
import type { PostgresConnectionOptions } from '../src/options.js';
import { pgPoolConfig } from '../src/store.js';
import { adminQuery, pgFixture, pgOptions } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7));

function claims(count: number, prefix: string): SlotClaim[] {
  return Array.from({ length: count }, (_, i) => ({
    code: `${prefix}-${i}`,
    key: '',
    slotAt: AT,
    attempt: 1,
    trigger: 'schedule' as const,
    overlap: 'skip' as const,
    leaseMs: 60_000,
  }));
}

/** Kills every backend serving this schema (application_name is `tickwork:<schema>`, plus `:listen`). */
async function terminateBackends(schema: string, suffix = ''): Promise<number> {
  const rows = await adminQuery<{ ok: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
    [`tickwork:${schema}${suffix}`],
  );
  return rows.length;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('PostgreSQL restarts and killed connections', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('after pg_terminate_backend of its idle connections the store answers again by itself, with every run kept', async () => {
    const fx = await pgFixture();
    const store = await fx.open();
    cleanup = async () => (await store.close(), await fx.cleanup());
    const outcomes = await store.claimSlots(claims(20, 'idle'), { runnerId: 'r', now: AT });
    expect(await terminateBackends(fx.schema)).toBeGreaterThan(0);
    // A completion (a write) right after the kill: the dead pooled connection is never used for a statement that could run twice.
    const leases = outcomes.map((o) => (o.status === 'claimed' ? o.lease : undefined)).filter((l) => l !== undefined);
    const done = await store.completeRuns(leases.map((lease) => ({ lease, status: 'succeeded' as const, finishedAt: AT })));
    expect(done.map((d) => d.status)).toEqual(leases.map(() => 'completed'));
    const page = await store.queryRuns({ limit: 100 });
    expect(page.runs).toHaveLength(20);
    expect(page.runs.every((r) => r.status === 'succeeded')).toBe(true);
  });

  it('a connection killed while checked out between two statements does not crash the process; the pool replaces it', async () => {
    const fx = await pgFixture();
    const { config, where } = pgPoolConfig(pgOptions(fx.schema) as PostgresConnectionOptions);
    const source = ownPool(config, where);
    cleanup = async () => (await source.close(), await fx.cleanup());
    const db = new PgConnection(source);
    await db.query('SELECT 1', [], 'warm up', true);
    // The window a server stop hits when its FATAL arrives right after a statement's answer, before the release.
    const borrowed = await source.borrow();
    const client = borrowed.client as PoolClient;
    const ended = new Promise((resolve) => client.once('end', resolve));
    expect(await terminateBackends(fx.schema)).toBeGreaterThan(0);
    // Without a listener of the store's, the client's 'error' event here is uncaught and ends the process (and this test run).
    await ended;
    borrowed.release();
    expect(await db.query<{ one: number }>('SELECT 1 AS one', [], 'after the kill', true)).toEqual([{ one: 1 }]);
  });

  it('a batch claim cut off mid-statement either rejects with StoreUnavailableError having claimed nothing, or claimed all; the store then recovers', async () => {
    const fx = await pgFixture();
    const store = await fx.open();
    cleanup = async () => (await store.close(), await fx.cleanup());
    await store.ping();
    const results: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      const batch = claims(2000, `cut-${round}`);
      const claiming = store.claimSlots(batch, { runnerId: 'r', now: AT }).then(
        (o: ClaimOutcome[]) => ({ ok: true as const, claimed: o.filter((x) => x.status === 'claimed').length }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      await new Promise((resolve) => setTimeout(resolve, 20 * round));
      await terminateBackends(fx.schema);
      const result = await claiming;
      const logged = (await store.queryRuns({ limit: 1000, since: AT })).runs.filter((r) => r.code.startsWith(`cut-${round}-`));
      const count = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM "${fx.schema}".tickwork_run WHERE code LIKE $1`, [
        `cut-${round}-%`,
      ]);
      if (result.ok) {
        expect(result.claimed).toBe(2000);
        expect(Number(count[0]?.n)).toBe(2000);
        results.push('succeeded');
      } else {
        expect(result.error).toBeInstanceOf(StoreUnavailableError);
        expect((result.error as Error).message).toContain('[tickwork] [store-sql] claimSlots');
        expect(Number(count[0]?.n)).toBe(0);
        expect(logged).toHaveLength(0);
        results.push('rejected');
      }
    }
    // Whatever happened above, the same instance keeps working without being reopened.
    const after = await store.claimSlots(claims(3, 'after'), { runnerId: 'r', now: AT });
    expect(after.map((o) => o.status)).toEqual(['claimed', 'claimed', 'claimed']);
    console.log(`cut-off claim batches: ${results.join(', ')}`);
  });

  it('the LISTEN connection reconnects after being killed and delivers later changes again', async () => {
    const fx = await pgFixture();
    const listener = await fx.open();
    const writer = await fx.open();
    const received: StoreChange[] = [];
    const unsubscribe = await listener.subscribe!((change) => received.push(change));
    cleanup = async () => (await unsubscribe(), await listener.close(), await writer.close(), await fx.cleanup());

    await writer.setPaused({ code: 'before', key: '' }, true, { now: AT });
    await until('the first change', async () => (received.length > 0 ? true : undefined));
    const firstPid = await until('the listener backend', async () => {
      const rows = await adminQuery<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [
        `tickwork:${fx.schema}:listen`,
      ]);
      return rows[0]?.pid;
    });
    expect(await terminateBackends(fx.schema, ':listen')).toBe(1);
    await until('a new listener backend', async () => {
      const rows = await adminQuery<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [
        `tickwork:${fx.schema}:listen`,
      ]);
      return rows[0] && rows[0].pid !== firstPid ? rows[0].pid : undefined;
    });
    await writer.requestRun({ code: 'after', key: '' }, { now: AT });
    const change = await until('the change after reconnecting', async () => received.find((c) => c.code === 'after'));
    expect(change).toEqual({ type: 'run-request', code: 'after', key: '' });
  });
});
