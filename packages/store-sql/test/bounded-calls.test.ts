/**
 * Bounded PostgreSQL calls: a lock held by another session, a statement that runs too long,
 * and a connection that stops answering each fail the store call with StoreUnavailableError
 * within the configured bound, and the same store answers again once the cause is gone.
 * The lock is held on the test's own schema only.
 */
import pg from 'pg';
import { StoreUnavailableError, type Store } from '@tickwork/core';
import { claimFor as claim, prepareSchedules } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, SqlStoreOptionsError, type SqlStoreOptions } from '../src/index.js';
import { adminQuery, PG_URL, pgRelay, randomSchema } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const JOB = { code: 'billing', key: '' };

/** A migrated schema of its own and a store on it with `bounds`. */
async function storeWith(
  bounds: Partial<SqlStoreOptions>,
  undo: (() => Promise<unknown>)[],
  clientUrl = PG_URL,
): Promise<{ store: Store; schema: string }> {
  const schema = randomSchema();
  undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  await migrate({ driver: 'postgresql', clientUrl: PG_URL, schema });
  const store = createSqlStore({ driver: 'postgresql', clientUrl, schema, poolSize: 3, ...bounds } as SqlStoreOptions);
  undo.push(() => store.close());
  await prepareSchedules(store, [JOB], AT);
  return { store, schema };
}

/** Another session holding `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` on `table` of `schema` until `release()`. */
async function holdLock(schema: string, table: string, undo: (() => Promise<unknown>)[]): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: PG_URL, application_name: 'tickwork-test:lock-holder' });
  await client.connect();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await client.query('COMMIT');
    await client.end();
  };
  undo.push(release);
  await client.query('BEGIN');
  await client.query(`LOCK TABLE "${schema}".${table} IN ACCESS EXCLUSIVE MODE`);
  return { release };
}

/** Elapsed ms of `fn`'s rejection, and the rejection. */
async function timedFailure(fn: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const began = performance.now();
  const error = await fn().then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - began };
}

/** A loopback relay to PostgreSQL that can be frozen: it then passes no byte either way (a dead but open connection). */
async function relay(undo: (() => Promise<unknown>)[]): Promise<{ url: string; freeze(): void; thaw(): void }> {
  let frozen = false;
  const url = await pgRelay(undo, { open: () => !frozen });
  return {
    url,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
    },
  };
}

describe('bounded PostgreSQL calls', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (undo.length > 0) await undo.pop()!().catch(() => undefined);
  });

  it('a claim blocked by LOCK TABLE … ACCESS EXCLUSIVE from another session fails with StoreUnavailableError at lockTimeoutMs; the store answers once the lock is released', async () => {
    const { store, schema } = await storeWith({ lockTimeoutMs: 800, statementTimeoutMs: 60_000 }, undo);
    const lock = await holdLock(schema, 'tickwork_job_state', undo);
    const { error, ms } = await timedFailure(() => store.claimSlots([claim(JOB, AT)], { runnerId: 'r1', now: AT }));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(
      /claimSlots: PostgreSQL at .* cancelled the statement, which waited longer than lockTimeoutMs for a lock another session holds .*nothing was changed/,
    );
    // It waited for the lock (the bound), and gave up long before the 60 s statement timeout (generous: a busy machine).
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(20_000);
    // Reads wait for the lock just the same, and fail the same way.
    await expect(store.getStates([JOB])).rejects.toThrow(/lockTimeoutMs/);
    await lock.release();
    const [claimed] = await store.claimSlots([claim(JOB, AT)], { runnerId: 'r1', now: AT });
    expect(claimed?.status).toBe('claimed');
    expect((await store.queryRuns()).runs).toHaveLength(1);
  });

  it('a statement running past statementTimeoutMs (here: waiting on a lock, with a longer lock timeout) is cancelled by the server', async () => {
    const { store, schema } = await storeWith({ lockTimeoutMs: 60_000, statementTimeoutMs: 800 }, undo);
    const lock = await holdLock(schema, 'tickwork_run', undo);
    const { error, ms } = await timedFailure(() => store.claimSlots([claim(JOB, AT)], { runnerId: 'r1', now: AT }));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/ran longer than statementTimeoutMs/);
    expect(ms).toBeLessThan(20_000);
    await lock.release();
    // Cancelled means rolled back: the slot was not taken, so it is claimed now.
    const [claimed] = await store.claimSlots([claim(JOB, AT)], { runnerId: 'r1', now: AT });
    expect(claimed?.status).toBe('claimed');
  });

  it('a connection that stops answering fails the call at queryTimeoutMs and is dropped; the next call opens a fresh one', async () => {
    const link = await relay(undo);
    const { store } = await storeWith({ statementTimeoutMs: 500, queryTimeoutMs: 1_500, connectTimeoutMs: 3_000 }, undo, link.url);
    expect(await store.getStates([JOB])).toHaveLength(1); // a pooled connection through the relay
    link.freeze();
    const { error, ms } = await timedFailure(() => store.getStates([JOB]));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/getStates: PostgreSQL at .* did not answer within queryTimeoutMs/);
    // One bound, not two: a query timeout is not retried.
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(15_000);
    link.thaw();
    expect(await store.getStates([JOB])).toHaveLength(1);
  });

  it('bad bounds are refused at creation naming the option, nothing opened', () => {
    const base = { driver: 'postgresql' as const, clientUrl: PG_URL };
    expect(() => createSqlStore({ ...base, lockTimeoutMs: 0 })).toThrow(SqlStoreOptionsError);
    expect(() => createSqlStore({ ...base, lockTimeoutMs: 0 })).toThrow(/option "lockTimeoutMs" must be a positive integer, got 0/);
    expect(() => createSqlStore({ ...base, statementTimeoutMs: 1.5 })).toThrow(/option "statementTimeoutMs" must be a positive integer/);
    expect(() => createSqlStore({ ...base, keepAliveDelayMs: -1 })).toThrow(/option "keepAliveDelayMs" must be a positive integer/);
    expect(() => createSqlStore({ ...base, queryTimeoutMs: 3_000 })).toThrow(
      /option "queryTimeoutMs" \(3000\) must be greater than statementTimeoutMs \(15000, the default\)/,
    );
    expect(() => createSqlStore({ ...base, statementTimeoutMs: 2_000, queryTimeoutMs: 2_000 })).toThrow(
      /option "queryTimeoutMs" \(2000\) must be greater than statementTimeoutMs \(2000\)/,
    );
    expect(() => createSqlStore({ ...base, statementTimeoutMs: 2_000, queryTimeoutMs: 2_500 })).not.toThrow();
  });
});
