/**
 * The `replicas` option: every decisive write is followed by `WAIT count timeoutMs`, and a write
 * fewer replicas acknowledged fails the call, so no runner acts on a claim a failover could lose.
 * Real processes only: a private primary, a private replica (`--replicaof`), a promotion with
 * `REPLICAOF NO ONE`. The shared Redis on 6379 is never touched.
 */
import { createFakeClock, defineJob, every, runDue, StoreUnavailableError, type Logger } from '@tickwork/core';
import { executeRun } from '@tickwork/core/runner';
import type { SlotClaim } from '@tickwork/core/store';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type ReplicasOption } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { startReplicationLink } from './replication-link.js';

const base = Date.parse('2030-03-04T10:00:00.000Z');
const at = (ms: number) => new Date(base + ms);
const claim = (code: string, slot: number): SlotClaim => ({
  code,
  key: '',
  slotAt: at(slot * 1_000),
  attempt: 1,
  trigger: 'schedule',
  overlap: 'allowAll',
  leaseMs: 60_000,
});
const REPLICAS: ReplicasOption = { count: 1, timeoutMs: 300 };
/** Long enough that a live replica on a busy machine acknowledges in time; refused claims are retried anyway. */
const FAILOVER_REPLICAS: ReplicasOption = { count: 1, timeoutMs: 1_000 };

/** Times WAIT ran on a server (`INFO commandstats`). */
async function waitCalls(admin: Redis): Promise<number> {
  return Number(/cmdstat_wait:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
}

describe('replicas option with a live and a stopped replica', () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  const stores: RedisStore[] = [];
  const open = (url: string, prefix: string, replicas?: ReplicasOption) => {
    const store = createRedisStore({ url, prefix, ...(replicas ? { replicas } : {}) });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    primary = await startPrivateRedis();
    replica = await startPrivateRedis({ replicaOf: primary.port });
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(async () => {
    await replica?.stop();
    await primary?.stop();
  });

  it('claims and completions are answered once the replica acknowledged them, and the replica holds them', async () => {
    const store = open(primary.url, 'live', { count: 1, timeoutMs: 2_000 });
    const onReplica = open(replica.url, 'live');
    const admin = await primary.admin();
    const waitsBefore = await waitCalls(admin);
    const outcomes = await store.claimSlots(
      [0, 1, 2, 3, 4].map((slot) => claim('tick', slot)),
      { runnerId: 'a', now: at(0) },
    );
    expect(outcomes.map((o) => o.status)).toEqual(['claimed', 'claimed', 'claimed', 'claimed', 'claimed']);
    // Read right after the answer, without waiting: WAIT already made sure the replica has them.
    for (const outcome of outcomes)
      expect(await onReplica.getRun(outcome.status === 'claimed' ? outcome.run.id : '?')).toMatchObject({
        status: 'running',
        runnerId: 'a',
      });
    const leases = outcomes.flatMap((o) => (o.status === 'claimed' ? [o.lease] : []));
    const done = await store.completeRuns(leases.map((lease) => ({ lease, status: 'succeeded', finishedAt: at(500) })));
    expect(done.map((d) => d.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    for (const lease of leases) expect((await onReplica.getRun(lease.runId))?.status).toBe('succeeded');
    // One WAIT per decisive call (one claim batch, one completion batch), none for reads.
    await store.getRun(leases[0]?.runId ?? '?');
    expect((await waitCalls(admin)) - waitsBefore).toBe(2);
  });

  it('without enough replicas a claim fails with a clear error, no handler starts, and the same runner claims it once replicas are back', async () => {
    const store = open(primary.url, 'down', REPLICAS);
    const onPrimary = open(primary.url, 'down');
    await store.ensureStates([{ code: 'tick', key: '' }], at(0));
    await replica.shutdown();

    const refused = await store.claimSlots([claim('tick', 0)], { runnerId: 'a', now: at(0) }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toContain(
      'claimSlots: 0 of the 1 replica(s) the replicas option requires (replicas.count 1) acknowledged the write within replicas.timeoutMs (300 ms)',
    );
    // The primary applied it (WAIT does not roll back); the runner just never acted on it.
    const [applied] = (await onPrimary.queryRuns({ code: 'tick' })).runs;
    expect(applied).toMatchObject({ status: 'running', runnerId: 'a' });

    // A runner (core's runDue) with a due every-second job starts no handler while the replica is down.
    let handlerCalls = 0;
    const jobs = [
      defineJob({
        code: 'tick',
        schedule: every('1s'),
        run: () => {
          handlerCalls += 1;
        },
      }),
    ];
    // (Its reap finds no expired lease, so it writes nothing and needs no replica; the claim is refused.)
    const tick = await runDue({ jobs, store, clock: createFakeClock(at(1_000)), runnerId: 'a' });
    expect(tick.ok).toBe(false);
    expect(tick.results).toMatchObject([{ code: 'tick', outcome: 'error', run: null }]);
    expect(tick.results[0]?.reason).toContain('claimSlots: 0 of the 1 replica(s) the replicas option requires');
    expect(handlerCalls).toBe(0);

    // Replica back (a full resync from the primary): the same runner's retry is answered with its own run.
    await replica.start();
    const [retried] = await store.claimSlots([claim('tick', 0)], { runnerId: 'a', now: at(0) });
    expect(retried).toMatchObject({ status: 'claimed', run: { id: applied?.id, runnerId: 'a' } });
    expect((await open(replica.url, 'down').getRun(applied?.id ?? '?'))?.status).toBe('running');
  });

  it('a completion applied on the primary whose WAIT timed out is retried and logged as recorded, not as taken over', async () => {
    const store = open(primary.url, 'wait-complete', REPLICAS);
    const onPrimary = open(primary.url, 'wait-complete');
    const [claimed] = await onPrimary.claimSlots([claim('tick', 0)], { runnerId: 'a', now: at(0) });
    if (claimed?.status !== 'claimed') throw new Error(`expected a claim, got ${claimed?.status}`);
    await replica.shutdown();
    const lines: Array<{ level: string; msg: string }> = [];
    const logger: Logger = {
      debug: () => {},
      info: (_o, msg) => void lines.push({ level: 'info', msg: msg ?? '' }),
      warn: (_o, msg) => void lines.push({ level: 'warn', msg: msg ?? '' }),
      error: (_o, msg) => void lines.push({ level: 'error', msg: msg ?? '' }),
      child: () => logger,
    };
    const job = defineJob({ code: 'tick', schedule: every('1s'), run: () => {} });
    const executed = executeRun({
      job,
      run: claimed.run,
      lease: claimed.lease,
      store,
      clock: createFakeClock(at(100)),
      logger,
      completionBackoff: { firstMs: 50, maxMs: 200 },
    });
    // The first attempt is applied on the primary and refused for want of a replica: retried until the replica is back.
    const deadline = Date.now() + 20_000;
    while (!lines.some((l) => l.msg.startsWith('recording the run failed'))) {
      if (Date.now() > deadline) throw new Error('the completion never failed for want of a replica');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await onPrimary.getRun(claimed.run.id))?.status).toBe('succeeded');
    await replica.start();
    const result = await executed;
    expect(result.outcome).toBe('completed');
    expect(result.run).toMatchObject({ id: claimed.run.id, status: 'succeeded' });
    expect(result.state).toMatchObject({ code: 'tick', key: '', lastStatus: 'succeeded', consecutiveFailures: 0 });
    expect(lines.filter((l) => /taken over/.test(l.msg))).toEqual([]);
    expect(lines.filter((l) => /earlier attempt had been applied/.test(l.msg))).toHaveLength(1);
  }, 60_000);
});

/**
 * Two runners claim every second's slot of one job; the replica's link is held (its copy stops
 * advancing), the runners go on claiming, the primary is SIGKILLed, the replica promoted, and
 * new stores on it catch up from the promoted replica's `lastSlotAt`, as restarted daemons do.
 * Returns how many times each slot was started (a `claimed` answer the runner acted on).
 */
async function failover(replicas: ReplicasOption | undefined) {
  const primary = await startPrivateRedis();
  const link = await startReplicationLink(primary.port);
  const replica = await startPrivateRedis({ replicaOf: link.port });
  let second: PrivateRedis | null = null;
  const stores: RedisStore[] = [];
  const open = (url: string) => {
    const store = createRedisStore({ url, prefix: 'failover', ...(replicas ? { replicas } : {}) });
    stores.push(store);
    return store;
  };
  const started = new Map<number, string[]>();
  const acknowledged = new Map<number, string>();
  /**
   * Both runners claim `slot` at once; a claimed answer starts (and completes) its run. While the
   * replica is live a refused call is retried, as core's runners do (claims are idempotent per
   * runner), so a slow acknowledgement on a busy machine cannot change the counts.
   */
  const claimRound = async (runners: { id: string; store: RedisStore }[], slot: number, attempts: number) => {
    await Promise.all(
      runners.map(async ({ id, store }) => {
        let outcome = null;
        for (let attempt = 0; attempt < attempts && !outcome; attempt += 1) {
          outcome = await store.claimSlots([claim('tick', slot)], { runnerId: id, now: at(slot * 1_000) }).then(
            ([o]) => o,
            () => null,
          );
        }
        if (outcome?.status !== 'claimed') return;
        started.set(slot, [...(started.get(slot) ?? []), id]);
        acknowledged.set(slot, outcome.run.id);
        await store
          .completeRuns([{ lease: outcome.lease, status: 'succeeded', finishedAt: at(slot * 1_000 + 100) }])
          .catch(() => undefined);
      }),
    );
  };
  try {
    const before = [
      { id: 'a', store: open(primary.url) },
      { id: 'b', store: open(primary.url) },
    ];
    for (let slot = 0; slot < 10; slot += 1) await claimRound(before, slot, 20);
    const acknowledgedBeforeLag = new Map(acknowledged);
    // The lag starts now, not earlier: without WAIT a claim is answered before its replication
    // bytes pass the link, so a hold right after the answers could catch slots 0–9 too (seen on a
    // busy machine: the promoted replica then held nothing at all).
    await caughtUp(primary, replica);
    link.hold();
    for (let slot = 10; slot < 15; slot += 1) await claimRound(before, slot, 1);
    await primary.kill();
    await link.cut();
    const promoted = await replica.admin();
    await promoted.call('REPLICAOF', 'NO', 'ONE');
    // A fresh replica of the promoted one (as Sentinel re-points the others), so `replicas: 1` can be met again.
    second = await startPrivateRedis({ replicaOf: replica.port });

    const after = [
      { id: 'c', store: open(replica.url) },
      { id: 'd', store: open(replica.url) },
    ];
    const [state] = await (after[0] as { store: RedisStore }).store.getStates([{ code: 'tick', key: '' }]);
    const resumeFrom = (state?.lastSlotAt?.getTime() ?? base - 1_000) - base + 1_000;
    for (let slot = resumeFrom / 1_000; slot < 20; slot += 1) await claimRound(after, slot, 20);
    // Every slot acknowledged before the lag is held by the promoted replica: another runner finds it taken.
    const third = open(replica.url);
    const again = await third.claimSlots(
      [...acknowledgedBeforeLag.keys()].map((slot) => claim('tick', slot)),
      { runnerId: 'e', now: at(20_000) },
    );
    return {
      started,
      acknowledgedBeforeLag: acknowledgedBeforeLag.size,
      retakenBeforeLag: again.map((o) => o.status),
      resumeFrom: resumeFrom / 1_000,
    };
  } finally {
    for (const store of stores) await store.close();
    await second?.stop();
    await replica.stop();
    await link.cut().catch(() => undefined);
    await primary.stop();
  }
}

/** Resolves once the replica has applied everything the primary had written when this was called. */
async function caughtUp(primary: PrivateRedis, replica: PrivateRedis): Promise<void> {
  const offset = (info: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? Number.NaN);
  const target = offset(await (await primary.admin()).info('replication'), 'master_repl_offset');
  if (!Number.isFinite(target)) throw new Error('the primary reported no master_repl_offset');
  const replicaAdmin = await replica.admin();
  const deadline = Date.now() + 15_000;
  while (!(offset(await replicaAdmin.info('replication'), 'slave_repl_offset') >= target)) {
    if (Date.now() > deadline) throw new Error(`the replica did not reach replication offset ${target} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const slots = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('failover: primary killed while its replica lags, replica promoted', () => {
  it('with replicas: 1 no slot runs twice across the promotion, and every slot runs exactly once', { timeout: 90_000 }, async () => {
    const result = await failover(FAILOVER_REPLICAS);
    expect(result.acknowledgedBeforeLag).toBe(10);
    expect(result.retakenBeforeLag).toEqual(Array(10).fill('taken'));
    // The claims made while the replica lagged were refused, so the promoted replica resumes at slot 10…
    expect(result.resumeFrom).toBe(10);
    // …and each of the 20 slots was started by exactly one runner.
    expect(slots(0, 20).map((slot) => result.started.get(slot)?.length ?? 0)).toEqual(Array(20).fill(1));
  });

  it('without the option the claims acknowledged during the lag are lost with the primary, and those 5 slots run twice', {
    timeout: 90_000,
  }, async () => {
    const result = await failover(undefined);
    expect(result.retakenBeforeLag).toEqual(Array(10).fill('taken'));
    expect(result.resumeFrom).toBe(10);
    expect(slots(0, 20).map((slot) => result.started.get(slot)?.length ?? 0)).toEqual([
      ...Array(10).fill(1),
      ...Array(5).fill(2),
      ...Array(5).fill(1),
    ]);
  });
});
