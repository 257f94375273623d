import { InvalidArgumentError, type RunRecord, type ScheduleRef, type Store } from '@tickwork/core';
import { encodeScheduleDefinition, OVERLAP_POLICIES, type Lease } from '@tickwork/core/store';
import { claimFor as claim } from '@tickwork/store-conformance';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ownPool, PgConnection } from '../src/connection/pg.js';
import { createSqlStore, migrate } from '../src/index.js';
import { PgStore } from '../src/pg-store.js';
import { pgPoolConfig } from '../src/store.js';
import { adminQuery, PG_URL, pgOptions, randomSchema, runtimeSchedule as schedule } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const TENANT = { code: 'report', key: 'tenant-1' };

/** Resolves once a backend of the store on `schema` waits for a row lock (so the racing call is provably blocked). */
async function blockedOnLock(schema: string): Promise<void> {
  for (let i = 0; i < 250; i += 1) {
    const rows = await adminQuery(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [
      `tickwork:${schema}`,
    ]);
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the store never waited for the lock');
}

describe('PostgreSQL: schedule writes racing claims and each other (two real connections)', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  async function setUp() {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrate(pgOptions(schema));
    const store = createSqlStore(pgOptions(schema));
    undo.push(() => store.close());
    const other = new pg.Client({ connectionString: PG_URL, application_name: 'tickwork-test-other' });
    await other.connect();
    undo.push(() => other.end());
    return { schema, store, other };
  }

  it('a removal waits for a claim in flight on that schedule; its runs then complete or are reaped with no state, and none is recreated', async () => {
    const { schema, store, other } = await setUp();
    await store.upsertSchedules([schedule(TENANT)], AT);
    await other.query('BEGIN');
    // The claim function exactly as the store calls it (two parallel runs), held open in a transaction.
    const input = [0, 1].map((ord) => ({
      ord,
      ...TENANT,
      slot_at: new Date(AT.getTime() + ord * 60_000).toISOString(),
      attempt: 1,
      trigger: 'schedule',
      allow_parallel: true,
      lease_ms: 60_000,
      schedule_version: 1,
    }));
    const held = (
      await other.query(`SELECT outcome FROM "${schema}".tickwork_claim_slots($1::jsonb, 'a', $2)`, [JSON.stringify(input), AT])
    ).rows;
    expect(held.map((row: { outcome: string }) => row.outcome)).toEqual(['claimed', 'claimed']);

    const removing = store.removeSchedules([TENANT]);
    await blockedOnLock(schema);
    await other.query('COMMIT');
    expect(await removing).toEqual([true]);

    const { runs } = await store.queryRuns({ code: TENANT.code });
    expect(runs.map((r) => r.status)).toEqual(['running', 'running']);
    expect(await store.getStates([TENANT])).toEqual([]);
    const [second, first] = runs as [RunRecord, RunRecord];
    const lease = {
      ...TENANT,
      runId: first.id,
      token: first.token,
      runnerId: 'a',
      expiresAt: first.leaseExpiresAt!,
      cancelRequested: false,
    };
    const [done] = await store.completeRuns([{ lease, status: 'failed', finishedAt: new Date(AT.getTime() + 1000), error: 'boom' }]);
    expect(done).toMatchObject({ status: 'completed', state: null, run: { status: 'failed', error: 'boom' } });
    const reaped = await store.reapExpired({ now: new Date(AT.getTime() + 3 * 60_000) });
    expect(reaped.map((r) => [r.run.id, r.run.status, r.state])).toEqual([[second.id, 'interrupted', null]]);
    expect(await store.getStates()).toEqual([]);
  });

  it('a claim waits for a removal in flight and is then unscheduled, creating no state', async () => {
    const { schema, store, other } = await setUp();
    await store.upsertSchedules([schedule(TENANT)], AT);
    await other.query('BEGIN');
    const removed = await other.query(`SELECT code, key FROM "${schema}".tickwork_remove_schedules($1::jsonb, 'unused')`, [
      JSON.stringify([TENANT]),
    ]);
    expect(removed.rows).toEqual([TENANT]);

    const claiming = store.claimSlots([claim(TENANT, AT)], { runnerId: 'b', now: AT });
    await blockedOnLock(schema);
    await other.query('COMMIT');
    expect(await claiming).toEqual([{ status: 'unscheduled' }]);
    expect((await store.queryRuns()).runs).toEqual([]);
    expect(await store.getStates()).toEqual([]);
  });

  it('a run-now request waits for a removal in flight and is then refused, filing nothing', async () => {
    const { schema, store, other } = await setUp();
    await store.upsertSchedules([schedule(TENANT)], AT);
    await other.query('BEGIN');
    await other.query(`SELECT * FROM "${schema}".tickwork_remove_schedules($1::jsonb, 'unused')`, [JSON.stringify([TENANT])]);
    const requesting = store.requestRun(TENANT, { now: AT }).catch((e: unknown) => e);
    await blockedOnLock(schema);
    await other.query('COMMIT');
    expect(String(await requesting)).toMatch(/InvalidArgumentError: .*requestRun: .*job "report".* no runtime schedule with that key/);
    expect(await store.pendingRunRequests()).toEqual([]);
  });

  it('schedule writers take turns, so versions are handed out in commit order and the revision sees every change', async () => {
    const { schema, store, other } = await setUp();
    const first = { ...TENANT, key: 'first' };
    const second = { ...TENANT, key: 'second' };
    await other.query('BEGIN');
    const items = [{ ord: 0, code: first.code, key: first.key, definition: encodeScheduleDefinition(schedule(first)), enabled: true }];
    await other.query(`SELECT * FROM "${schema}".tickwork_upsert_schedules($1::jsonb, $2, 'unused')`, [JSON.stringify(items), AT]);

    const upserting = store.upsertSchedules([schedule(second)], AT);
    await blockedOnLock(schema);
    expect(await store.schedulesRevision()).toBe('0:0'); // the uncommitted write is not seen
    await other.query('COMMIT');
    const [written] = await upserting;
    expect(written?.version).toBe(2);
    expect(await store.schedulesRevision()).toBe('2:0');
    expect(await store.removeSchedules([first, second, first])).toEqual([true, true, false]);
    expect(await store.schedulesRevision()).toBe('2:2');
  });
});

/** A store on `schema` that does not retry deadlocks (the store's safety net), so any lock-order bug surfaces as an error. */
function storeWithoutConflictRetries(schema: string): Store {
  const { config, where } = pgPoolConfig({ driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 3 });
  return new PgStore(new PgConnection(ownPool(config, where), 0), schema, true);
}

/** `items` in a random order. */
function shuffled<T>(items: readonly T[]): T[] {
  return items
    .map((item) => [Math.random(), item] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, item]) => item);
}

describe('PostgreSQL: every function takes its row locks in one order (real concurrent connections)', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it('upserts, removals, claims, renewals, completions, reaps and run-now requests in random orders from five stores never deadlock and leave no orphan state', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrate(pgOptions(schema));
    const stores = Array.from({ length: 5 }, () => storeWithoutConflictRetries(schema));
    undo.push(() => Promise.all(stores.map((s) => s.close())));
    const refs: ScheduleRef[] = Array.from({ length: 120 }, (_, i) => ({ code: 'report', key: `tenant-${i}` }));
    const own: ScheduleRef = { code: 'billing', key: '' };
    const sample = (n: number) => shuffled(refs).slice(0, n);
    // Created in a random order, so the rows' heap order is not their key order (plans then visit them unsorted).
    await stores[0]!.upsertSchedules(
      shuffled(refs).map((ref) => schedule(ref)),
      AT,
    );

    let clock = AT.getTime();
    const leases: Lease[] = [];
    const errors: string[] = [];
    const done = { upsert: 0, remove: 0, claim: 0, renew: 0, complete: 0, reap: 0, request: 0 };
    const until = Date.now() + 6_000;
    const worker = async (store: Store, id: number) => {
      while (Date.now() < until) {
        clock += 1000;
        const now = new Date(clock);
        const dice = Math.random();
        const op =
          dice < 0.2
            ? 'upsert'
            : dice < 0.3
              ? 'remove'
              : dice < 0.5
                ? 'claim'
                : dice < 0.6
                  ? 'renew'
                  : dice < 0.8
                    ? 'complete'
                    : dice < 0.9
                      ? 'reap'
                      : 'request';
        try {
          if (op === 'upsert') {
            // Some re-enable schedules, which updates their states (resumedAt).
            await store.upsertSchedules(
              sample(40).map((ref) => ({ ...schedule(ref), enabled: Math.random() < 0.7, payload: { v: Math.floor(Math.random() * 3) } })),
              now,
            );
          } else if (op === 'remove') {
            await store.removeSchedules(sample(20));
          } else if (op === 'claim') {
            // Every overlap policy, so waiting runs are created, started and removed too.
            const batch = shuffled([own, ...sample(60)]).map((ref) =>
              claim(ref, now, { overlap: OVERLAP_POLICIES[Math.floor(Math.random() * OVERLAP_POLICIES.length)]!, leaseMs: 3_000 }),
            );
            for (const outcome of await store.claimSlots(batch, { runnerId: `runner-${id}`, now }))
              if (outcome.status === 'claimed') leases.push(outcome.lease);
          } else if (op === 'renew') {
            await store.renewLeases(shuffled(leases).slice(0, 60), { now, leaseMs: 3_000 });
          } else if (op === 'complete') {
            const batch = shuffled(leases.splice(0, 60));
            await store.completeRuns(
              batch.map((lease) => ({ lease, status: Math.random() < 0.8 ? 'succeeded' : 'failed', finishedAt: now })),
            );
          } else if (op === 'reap') {
            await store.reapExpired({ now });
          } else {
            // Filed only while the schedule exists (InvalidArgumentError otherwise); claimed by id, as runners do.
            const [ref] = sample(1);
            await store.requestRun(ref!, { now }).catch((error: unknown) => {
              if (!(error instanceof InvalidArgumentError)) throw error;
            });
            const pending = await store.pendingRunRequests({ refs: sample(20) });
            const claims = pending.map((r) =>
              claim(r, r.requestedAt, { trigger: 'manual', requestId: r.id, overlap: 'bufferOne', leaseMs: 3_000 }),
            );
            for (const outcome of await store.claimSlots(claims, { runnerId: `runner-${id}`, now }))
              if (outcome.status === 'claimed') leases.push(outcome.lease);
          }
          done[op] += 1;
        } catch (error) {
          errors.push(`${op}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(stores.map(worker));

    expect(errors).toEqual([]);
    for (const count of Object.values(done)) expect(count).toBeGreaterThan(0);
    const s = `"${schema}"`;
    const [invariants] = await adminQuery<Record<string, number>>(`SELECT
      (SELECT count(*)::int FROM ${s}.tickwork_job_state j WHERE j.key <> ''
        AND NOT EXISTS (SELECT 1 FROM ${s}.tickwork_schedule x WHERE x.code = j.code AND x.key = j.key)) AS orphan_states,
      (SELECT count(*)::int FROM ${s}.tickwork_schedule x
        WHERE NOT EXISTS (SELECT 1 FROM ${s}.tickwork_job_state j WHERE j.code = x.code AND j.key = x.key)) AS schedules_without_state,
      (SELECT count(*)::int FROM ${s}.tickwork_job_state j
        WHERE j.token < (SELECT coalesce(max(r.token), 0) FROM ${s}.tickwork_run r WHERE r.code = j.code AND r.key = j.key)) AS states_behind_their_runs,
      (SELECT count(*)::int FROM ${s}.tickwork_run_request q WHERE q.consumed_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM ${s}.tickwork_schedule x WHERE x.code = q.code AND x.key = q.key)) AS orphan_requests`);
    expect(invariants).toEqual({ orphan_states: 0, schedules_without_state: 0, states_behind_their_runs: 0, orphan_requests: 0 });
  }, 120_000);

  it('a statement the server aborts to break a deadlock is run again, and the call succeeds', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrate(pgOptions(schema));
    // Which backend PostgreSQL aborts is decided by timers: each waiting backend looks for a cycle once,
    // deadlock_timeout after it began to wait. The store's looks 10 s after it waits for beta's row, time
    // enough (on a busy machine too) for the other session to close the cycle first; the other session's
    // never looks in time (and the store's lock timeout is longer). So the store's statement is the one aborted, whatever the load.
    const url = new URL(PG_URL);
    url.searchParams.set('options', '-c deadlock_timeout=10s');
    const store = createSqlStore({ driver: 'postgresql', clientUrl: url.toString(), schema, poolSize: 3, lockTimeoutMs: 60_000 });
    undo.push(() => store.close());
    const [a, b] = [
      { code: 'alpha', key: '' },
      { code: 'beta', key: '' },
    ];
    const outcomes = await store.claimSlots([claim(a, AT), claim(b, AT)], { runnerId: 'r', now: AT });
    const leases = outcomes.map((o) => (o.status === 'claimed' ? o.lease : null));
    expect(leases.every((lease) => lease !== null)).toBe(true);

    // Another session holds beta's state row; the completion locks alpha's, then waits for beta's.
    const other = new pg.Client({ connectionString: PG_URL, application_name: 'tickwork-test-other' });
    await other.connect();
    undo.push(() => other.end());
    await other.query("SET deadlock_timeout = '10min'");
    await other.query('BEGIN');
    await other.query(`SELECT 1 FROM "${schema}".tickwork_job_state WHERE code = 'beta' FOR UPDATE`);
    const finishedAt = new Date(AT.getTime() + 1000);
    let settled = false;
    const completing = store.completeRuns(leases.map((lease) => ({ lease: lease!, status: 'succeeded' as const, finishedAt })));
    void completing.then(
      () => (settled = true),
      () => (settled = true),
    );
    await blockedOnLock(schema);
    // Now the other session asks for alpha's row: a cycle. The store's backend's deadlock check (10 s after it
    // began to wait) finds it and aborts its statement, which frees alpha's row: this lock is granted while the call goes on.
    await other.query(`SELECT 1 FROM "${schema}".tickwork_job_state WHERE code = 'alpha' FOR UPDATE`);
    expect(settled).toBe(false);
    await other.query('COMMIT');
    const completed = await completing;
    expect(completed.map((o) => o.status)).toEqual(['completed', 'completed']);
    expect((await store.getStates([a, b])).map((state) => state.lastStatus)).toEqual(['succeeded', 'succeeded']);
  });
});
