// executeRun's lease renewal through one LeaseRenewals shared by many runs (as the daemon shares
// one): one timer per lease length renews every live lease of that length in one call — each run
// still renewed within a third of its lease from its claim and from its last renewal, a run that
// ended no longer renewed, a lost lease aborting only its own run. Fake timers and a clock on them.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Clock, createMemoryStore, defineJob, InvalidArgumentError, silentLogger, type Store } from '../src/index.js';
import { decorateStore } from '../src/decorate-store.js';
import { type ExecutedRun, executeRun, LeaseRenewals } from '../src/entry/runner.js';
import type { Lease } from '../src/store.js';
import { toJob } from '../src/job.js';
import { deferred } from './run-fixtures.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
// On the fake timers: Date.now() moves with vi.advanceTimersByTime.
const clock: Clock = { now: () => new Date(Date.now()) };
const LEASE_MS = 3_000; // a beat every 1,000 ms

interface RenewCall {
  at: number;
  runIds: string[];
}

/** The memory store, recording each renewLeases call; `answer` may replace the store's answer for a lease. */
function recordingStore(answer: (lease: Lease) => 'store' | 'lost' | 'refuse' | 'hang' = () => 'store') {
  const memory = createMemoryStore();
  const calls: RenewCall[] = [];
  const hung: Array<() => void> = [];
  const store: Store = decorateStore(memory, {
    replace: {
      renewLeases: async (leases, options) => {
        calls.push({ at: Date.now() - T0, runIds: leases.map((l) => l.runId) });
        if (leases.some((l) => answer(l) === 'refuse')) throw new InvalidArgumentError('renewLeases: a lease the store refuses');
        if (leases.some((l) => answer(l) === 'hang')) await new Promise<void>((resolve) => hung.push(resolve));
        const renewed = await memory.renewLeases(leases, options);
        return renewed.map((lease, i) => (answer(leases[i] as Lease) === 'lost' ? null : lease));
      },
    },
  });
  return { memory, store, calls, hung };
}

/** Claims a slot of a new job `code` now and starts executeRun on it; the handler holds until `release`. */
async function start(store: Store, renewals: LeaseRenewals, code: string) {
  const now = clock.now();
  await store.ensureStates([{ code, key: '' }], now);
  const [outcome] = await store.claimSlots(
    [{ code, key: '', slotAt: now, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: LEASE_MS }],
    { runnerId: 'r1', now },
  );
  if (outcome?.status !== 'claimed') throw new Error(`expected a claim, got ${outcome?.status}`);
  const held = deferred();
  let aborted = false;
  const job = toJob(
    defineJob({
      code,
      schedule: null,
      leaseTtl: LEASE_MS,
      run: (ctx) => {
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          held.resolve();
        });
        return held.promise;
      },
    }),
  );
  const executed: Promise<ExecutedRun> = executeRun({
    job,
    run: outcome.run,
    lease: outcome.lease,
    store,
    clock,
    logger: silentLogger,
    renewals,
  });
  return { runId: outcome.run.id, joinedAt: now.getTime() - T0, executed, release: held.resolve, aborted: () => aborted };
}

/** The instants (ms from T0) at which `runId`'s lease was sent for renewal. */
function renewalsOf(calls: RenewCall[], runId: string): number[] {
  return calls.filter((c) => c.runIds.includes(runId)).map((c) => c.at);
}

describe('lease renewals shared by many runs', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renews runs started at different moments by one timer, each within a third of its lease from its start and its last renewal', async () => {
    const { store, calls } = recordingStore();
    const renewals = new LeaseRenewals();
    const a = await start(store, renewals, 'a');
    await vi.advanceTimersByTimeAsync(400);
    const b = await start(store, renewals, 'b');
    await vi.advanceTimersByTimeAsync(1_900);
    const c = await start(store, renewals, 'c');
    await vi.advanceTimersByTimeAsync(3_000);
    // Three runs held, one timer (no timeouts: the handlers hold no timer of their own).
    expect(vi.getTimerCount()).toBe(1);
    for (const run of [a, b, c]) {
      const sent = renewalsOf(calls, run.runId);
      expect(sent.length, `renewals of ${run.runId}`).toBeGreaterThanOrEqual(3);
      const gaps = [run.joinedAt, ...sent].slice(1).map((at, i) => at - ([run.joinedAt, ...sent][i] as number));
      expect(Math.max(...gaps), `longest wait between renewals of ${run.runId}`).toBeLessThanOrEqual(LEASE_MS / 3);
    }
    // Every beat renews every run then held in one call.
    expect(calls.at(-1)?.runIds.sort()).toEqual([a.runId, b.runId, c.runId].sort());
    expect(new Set(calls.map((c) => c.at)).size).toBe(calls.length);
    for (const run of [a, b, c]) run.release();
    await Promise.all([a.executed, b.executed, c.executed]);
  });

  it('stops renewing a run once it ended, and clears the timer when the last run of its length ended', async () => {
    const { store, calls } = recordingStore();
    const renewals = new LeaseRenewals();
    const a = await start(store, renewals, 'a');
    const b = await start(store, renewals, 'b');
    await vi.advanceTimersByTimeAsync(1_500);
    a.release();
    expect((await a.executed).run.status).toBe('succeeded');
    const endedAt = Date.now() - T0;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(renewalsOf(calls, a.runId).every((at) => at <= endedAt)).toBe(true);
    expect(renewalsOf(calls, b.runId).filter((at) => at > endedAt).length).toBeGreaterThanOrEqual(3);
    expect(vi.getTimerCount()).toBe(1);
    b.release();
    expect((await b.executed).run.status).toBe('succeeded');
    expect(vi.getTimerCount()).toBe(0);
    // A run started afterwards gets a timer again.
    const c = await start(store, renewals, 'c');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(renewalsOf(calls, c.runId).length).toBe(1);
    c.release();
    await c.executed;
  });

  it('a lease the store no longer holds aborts only its own run', async () => {
    let lostId = '';
    const { store } = recordingStore((lease) => (lease.runId === lostId ? 'lost' : 'store'));
    const renewals = new LeaseRenewals();
    const a = await start(store, renewals, 'a');
    const b = await start(store, renewals, 'b');
    lostId = a.runId;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a.aborted()).toBe(true);
    expect(b.aborted()).toBe(false);
    const recorded = await a.executed;
    expect([recorded.run.status, recorded.run.error]).toEqual(['interrupted', 'lease lost (another runner took the slot over)']);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(b.aborted()).toBe(false);
    b.release();
    expect((await b.executed).run.status).toBe('succeeded');
  });

  it('a lease the store refuses as input keeps the other runs of the call renewed, and aborts no run', async () => {
    let refusedId = '';
    const { store, calls } = recordingStore((lease) => (lease.runId === refusedId ? 'refuse' : 'store'));
    const renewals = new LeaseRenewals();
    const a = await start(store, renewals, 'a');
    const b = await start(store, renewals, 'b');
    refusedId = a.runId;
    await vi.advanceTimersByTimeAsync(3_000);
    // b's lease went again on its own and was renewed each beat: it holds beyond its first lease.
    const alone = calls.filter((c) => c.runIds.length === 1 && c.runIds[0] === b.runId);
    expect(alone.length).toBe(3);
    expect([a.aborted(), b.aborted()]).toEqual([false, false]);
    refusedId = '';
    a.release();
    b.release();
    expect((await a.executed).run.status).toBe('succeeded');
    expect((await b.executed).run.status).toBe('succeeded');
  });

  it('a run whose renewal has not answered sits the beats out; the runs that joined since are still renewed', async () => {
    let hangId = '';
    const { store, calls, hung } = recordingStore((lease) => (lease.runId === hangId ? 'hang' : 'store'));
    const renewals = new LeaseRenewals();
    const a = await start(store, renewals, 'a');
    hangId = a.runId;
    await vi.advanceTimersByTimeAsync(1_000); // a's renewal goes out and hangs
    const b = await start(store, renewals, 'b');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(renewalsOf(calls, a.runId)).toEqual([1_000]);
    expect(renewalsOf(calls, b.runId)).toEqual([2_000, 3_000, 4_000]);
    hangId = '';
    for (const resolve of hung) resolve();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(renewalsOf(calls, a.runId)).toEqual([1_000, 5_000]);
    expect(calls.at(-1)?.runIds.sort()).toEqual([a.runId, b.runId].sort());
    a.release();
    b.release();
    await Promise.all([a.executed, b.executed]);
  });
});
