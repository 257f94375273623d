/**
 * Upgrade path: data written by the previous version (before overlap policies, waiting runs and
 * run-now claims by request id) is used as is — no migration step. The keys below are exactly
 * what that version's scripts wrote: runs without `requestId` / `cancelRequested` and with
 * `token = n`, states without `waitingSlotAt`, no `J:waiting`, pending requests in the four
 * request indexes, 12-digit run numbers in index members.
 */
import type { Lease, SlotClaim } from '@tickwork/core/store';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { adminClient, deletePrefix, keysUnder, randomPrefix, REDIS_URL } from './redis-fixture.js';

const T = Date.parse('2030-05-06T07:00:00.000Z');
const pad = (ms: number) => String(ms).padStart(15, '0');
const pad12 = (n: number) => String(n).padStart(12, '0');

interface OldRun {
  n: number;
  key: string;
  slotAt: number;
  status: 'running' | 'succeeded' | 'skipped';
  startedAt: number;
  finishedAt: number | null;
  leaseExpiresAt: number | null;
  message: string | null;
}

/** Writes one job `legacy` as the previous version left it: 4 runs, 2 states, a runtime schedule, a pending request. */
async function writePreviousLayout(admin: Redis, P: string): Promise<void> {
  const J = (kind: string) => `${P}:{legacy}:${kind}`;
  const G = (kind: string) => `${P}:#:${kind}`;
  const runs: OldRun[] = [
    { n: 1, key: '', slotAt: T, status: 'succeeded', startedAt: T, finishedAt: T + 500, leaseExpiresAt: null, message: null },
    {
      n: 2,
      key: '',
      slotAt: T + 60_000,
      status: 'running',
      startedAt: T + 60_000,
      finishedAt: null,
      leaseExpiresAt: T + 90_000,
      message: null,
    },
    {
      n: 3,
      key: '',
      slotAt: T + 61_000,
      status: 'skipped',
      startedAt: T + 61_000,
      finishedAt: T + 61_000,
      leaseExpiresAt: null,
      message: 'skipped: run 2.legacy of this schedule still holds its lease and parallel runs are not allowed',
    },
    {
      n: 4,
      key: 'tenant',
      slotAt: T + 60_000,
      status: 'running',
      startedAt: T + 60_000,
      finishedAt: null,
      leaseExpiresAt: T + 63_000,
      message: null,
    },
  ];
  for (const run of runs) {
    const cf = `${run.key}|${run.slotAt}|1`;
    const member = `${pad(run.startedAt)}:${pad12(run.n)}:legacy`;
    const stored = {
      id: `${run.n}.legacy`,
      n: run.n,
      ce: 'legacy',
      member,
      cf,
      code: 'legacy',
      key: run.key,
      slotAt: run.slotAt,
      attempt: 1,
      trigger: 'schedule',
      runnerId: 'old-runner',
      token: run.n,
      startedAt: run.startedAt,
      status: run.status,
      finishedAt: run.finishedAt,
      durationMs: run.finishedAt === null ? null : run.finishedAt - run.startedAt,
      leaseExpiresAt: run.leaseExpiresAt,
      message: run.message,
      error: null,
      stack: null,
    };
    await admin.hset(J('runs'), String(run.n), JSON.stringify(stored));
    await admin.hset(J('claims'), cf, String(run.n));
    await admin.zadd(J('index'), 0, member);
    await admin.zadd(G('index'), 0, member);
    if (run.status === 'running') await admin.zadd(G('leases'), run.leaseExpiresAt as number, stored.id);
    else await admin.zadd(G('finished'), run.finishedAt as number, stored.id);
  }
  await admin.hset(J('active'), '', '2', 'tenant', '4');
  await admin.set(J('seq'), '4');
  const state = (key: string, lastSlotAt: number) =>
    JSON.stringify({
      code: 'legacy',
      key,
      paused: false,
      pausedNote: null,
      resumedAt: null,
      scheduleOverride: null,
      lastSlotAt,
      lastStatus: 'succeeded',
      lastFinishedAt: T + 500,
      lastAttempt: 1,
      lastFinishedSlotAt: T,
      consecutiveFailures: 0,
      totalRuns: key === '' ? 2 : 1,
      createdAt: T - 1_000,
      updatedAt: T + 61_000,
    });
  await admin.hset(J('states'), '', state('', T + 61_000), 'tenant', state('tenant', T + 60_000));
  await admin.sadd(G('codes'), 'legacy');
  const definition = JSON.stringify({
    schedule: { kind: 'cron', expression: '* * * * *' },
    timezone: null,
    payload: null,
    enabled: true,
    startAt: null,
    expiresAt: null,
    description: null,
    options: {},
  });
  await admin.hset(
    `${P}:{legacy}:schedule:tenant`,
    'definition',
    definition,
    'enabled',
    '1',
    'version',
    '7',
    'createdAt',
    String(T - 1_000),
    'updatedAt',
    String(T - 1_000),
  );
  await admin.zadd(G('schedules'), 0, 'legacy\u0000tenant');
  await admin.set(G('schedseq'), '7');
  await admin.hset(G('schedrev'), 'epoch', 'old-epoch', 'n', '3');
  const requestMember = `${pad(T + 62_000)}:${pad12(9)}`;
  await admin.hset(G('request'), '9', JSON.stringify({ id: '9', code: 'legacy', key: '', requestedAt: T + 62_000, requestedBy: 'ops' }));
  await admin.zadd(G('requests'), 0, requestMember);
  await admin.zadd(J('requests'), 0, requestMember);
  await admin.zadd(J('reqrefs'), 0, `\u0000${requestMember}`);
  await admin.set(G('reqseq'), '9');
}

const lease = (n: number, key: string, expiresAt: number): Lease => ({
  code: 'legacy',
  key,
  runId: `${n}.legacy`,
  token: n,
  runnerId: 'old-runner',
  expiresAt: new Date(expiresAt),
  cancelRequested: false,
});
const slot = (slotAt: number, overrides: Partial<SlotClaim> = {}): SlotClaim => ({
  code: 'legacy',
  key: '',
  slotAt: new Date(slotAt),
  attempt: 1,
  trigger: 'schedule',
  overlap: 'skip',
  leaseMs: 30_000,
  ...overrides,
});

describe('data written by the previous version', () => {
  let admin: Redis;
  let prefix: string;
  let store: RedisStore;
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('upgrade');
    await writePreviousLayout(admin, prefix);
    store = createRedisStore({ url: REDIS_URL, prefix });
  });
  afterEach(async () => {
    await store.close();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('reads as the new records: no waiting slot, no request id, no cancel request, the same schedules revision', async () => {
    const states = await store.getStates();
    expect(states.map((s) => [s.key, s.waitingSlotAt, s.totalRuns]).sort()).toEqual([
      ['', null, 2],
      ['tenant', null, 1],
    ]);
    expect(await store.getRun('2.legacy')).toMatchObject({ status: 'running', token: 2, requestId: null, cancelRequested: false });
    const page = await store.queryRuns({ code: 'legacy', limit: 2 });
    expect(page.runs.map((run) => run.id)).toEqual(['3.legacy', '4.legacy']);
    const next = await store.queryRuns({ code: 'legacy', limit: 2, cursor: page.nextCursor as string });
    expect(next.runs.map((run) => run.id)).toEqual(['2.legacy', '1.legacy']);
    expect(await store.schedulesRevision()).toBe('old-epoch:3');
    expect((await store.getSchedules([{ code: 'legacy', key: 'tenant' }]))[0]?.version).toBe(7);
  });

  it('a runner of the previous version keeps renewing and completes its run; taken slots stay taken and the live lease still holds the schedule', async () => {
    const now = T + 70_000;
    const [renewed] = await store.renewLeases([lease(2, '', T + 90_000)], { now: new Date(now), leaseMs: 30_000 });
    expect(renewed).toMatchObject({ runId: '2.legacy', token: 2, cancelRequested: false, expiresAt: new Date(now + 30_000) });

    const outcomes = await store.claimSlots([slot(T + 60_000), slot(T + 61_000), slot(T + 70_000)], {
      runnerId: 'new-runner',
      now: new Date(now),
    });
    expect(outcomes.map((o) => o.status)).toEqual(['taken', 'taken', 'overlap']);

    const [done] = await store.completeRuns([{ lease: lease(2, '', T + 90_000), status: 'succeeded', finishedAt: new Date(now + 1_000) }]);
    expect(done).toMatchObject({
      status: 'completed',
      run: { id: '2.legacy', status: 'succeeded' },
      state: { lastStatus: 'succeeded', waitingSlotAt: null },
    });
    const [claimed] = await store.claimSlots([slot(T + 72_000)], { runnerId: 'new-runner', now: new Date(now + 2_000) });
    expect(claimed?.status).toBe('claimed');
    if (claimed?.status === 'claimed') expect(claimed.lease.token).toBe(6);
  });

  it('an expired run of the previous version is reaped with its state, and its pending request is claimed by id exactly once', async () => {
    const reaped = await store.reapExpired({ now: new Date(T + 64_000) });
    expect(reaped.map((r) => [r.run.id, r.run.status, r.state?.key, r.state?.consecutiveFailures])).toEqual([
      ['4.legacy', 'interrupted', 'tenant', 1],
    ]);

    const [pending] = await store.pendingRunRequests({ refs: [{ code: 'legacy', key: '' }] });
    expect(pending).toMatchObject({ id: '9', requestedBy: 'ops' });
    const claim = slot(T + 62_000, { trigger: 'manual', requestId: '9', overlap: 'allowAll' });
    const [first] = await store.claimSlots([claim], { runnerId: 'new-runner', now: new Date(T + 64_000) });
    expect(first).toMatchObject({ status: 'claimed', run: { requestId: '9', trigger: 'manual' } });
    const [again] = await store.claimSlots([claim], { runnerId: 'another', now: new Date(T + 64_000) });
    expect(again?.status).toBe('taken');
    expect(await store.pendingRunRequests()).toEqual([]);
    expect(await admin.zcard(`${prefix}:{legacy}:reqrefs`)).toBe(0);
    expect(await admin.zcard(`${prefix}:#:requests`)).toBe(0);

    expect(await store.pruneRuns({ olderThan: new Date(T + 61_500) })).toBe(2);
    expect((await store.queryRuns({ code: 'legacy' })).runs.map((run) => run.id).sort()).toEqual(['2.legacy', '4.legacy', '5.legacy']);
  });

  it('this version keeps the single-node layout: every key it writes is one the previous version wrote or would write, none of the Cluster layout', async () => {
    await store.claimSlots([slot(T + 72_000, { key: 'tenant' }), slot(T + 80_000, { code: 'fresh' })], {
      runnerId: 'new-runner',
      now: new Date(T + 80_000),
    });
    await store.requestRun({ code: 'legacy', key: 'tenant' }, { now: new Date(T + 80_000) });
    await store.upsertSchedules(
      [
        {
          code: 'fresh',
          key: 'k',
          schedule: { kind: 'cron', expression: '* * * * *' },
          timezone: null,
          payload: null,
          enabled: true,
          startAt: null,
          expiresAt: null,
          description: null,
          options: {},
        },
      ],
      new Date(T + 80_000),
    );
    await store.heartbeat({ runnerId: 'new-runner', now: new Date(T + 80_000), ttlMs: 3_000, startedAt: new Date(T), clockOffsetMs: null });
    await store.appendAudit({
      at: new Date(T + 80_000),
      actor: { id: 'ops', name: 'Ops', role: 'admin', via: 'cli' },
      action: 'job.pause',
      target: { code: 'legacy' },
      before: null,
      after: null,
    });
    await store.claimMaintenance('prune', { now: new Date(T + 80_000), everyMs: 60_000 });
    const keys = await keysUnder(admin, prefix);
    const jobKinds = 'states|claims|runs|active|waiting|seq|index|requests|reqrefs|schedule:.+';
    const globalKinds =
      'codes|index|leases|finished|requests|request|reqseq|schedules|schedparts|schedseq|schedrev|runners|runnerexp|maintenance|audit|auditat|auditrow|auditseq|tokens';
    const layout = new RegExp(`^${prefix}:(\\{(legacy|fresh)\\}:(${jobKinds})|#:(${globalKinds}))$`);
    expect(keys.filter((key) => !layout.test(key))).toEqual([]);
    expect(keys).toContain(`${prefix}:{fresh}:runs`);
    expect(keys).toContain(`${prefix}:#:runners`);
  });
});
