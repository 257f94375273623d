// Issue #15 cases 1, 5, 6 and 7 through core's public API over the memory store: store
// outages, lost answers, crashed runners, a claim that keeps failing, handlers that ignore
// their signal. Faults are injected by wrapping a real memory store, never by mocking core.
import { describe, expect, it } from 'vitest';
import { deferred, runsOf } from './run-fixtures.js';
import {
  createFakeClock,
  createMemoryBackend,
  createMemoryStore,
  defineJob,
  every,
  runDue,
  StoreUnavailableError,
  type FailureContext,
  type Logger,
  type Store,
} from '../src/index.js';

const T0 = '2026-03-02T12:00:30.000Z';

/** A store that fails chosen calls with StoreUnavailableError, as a store does during an outage. */
function faulty(store: Store, fails: (method: string, args: unknown[]) => 'before' | 'after' | false): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const when = fails(String(property), args);
        if (when === 'before') throw new StoreUnavailableError(`[test] ${String(property)}: store unreachable`);
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        // The call happened; its answer is lost on the way back.
        if (when === 'after') throw new StoreUnavailableError(`[test] ${String(property)}: answer lost`);
        return result;
      };
    },
  }) as Store;
}

describe('faults: results survive outages (case 1)', () => {
  it('a completion applied whose answer was lost (a timeout, a WAIT for replicas) is recorded as it landed, never logged as taken over', async () => {
    const memory = createMemoryStore();
    let completions = 0;
    // The first attempt is applied and then fails, as a write does when WAIT for replicas times out; the retry reads stale.
    const store = faulty(memory, (method) => (method === 'completeRuns' && completions++ === 0 ? 'after' : false));
    const lines: Array<{ level: string; msg: string }> = [];
    const logger: Logger = {
      debug: (_o, msg) => void lines.push({ level: 'debug', msg: msg ?? '' }),
      info: (_o, msg) => void lines.push({ level: 'info', msg: msg ?? '' }),
      warn: (_o, msg) => void lines.push({ level: 'warn', msg: msg ?? '' }),
      error: (_o, msg) => void lines.push({ level: 'error', msg: msg ?? '' }),
      child: () => logger,
    };
    const alerts: number[] = [];
    const job = defineJob({
      code: 'wait-timeout',
      schedule: every('1m'),
      onFailure: (ctx) => void alerts.push(ctx.consecutiveFailures),
      run: () => {
        throw new Error('boom');
      },
    });
    const report = await runDue({ jobs: [job], store, clock: createFakeClock(T0), runnerId: 'a', logger });
    expect(completions).toBe(2);
    expect(report.results.map((r) => [r.outcome, r.reason])).toEqual([['failed', 'boom']]);
    expect(lines.some((l) => /taken over/.test(l.msg))).toBe(false);
    expect(lines.filter((l) => /earlier attempt had been applied/.test(l.msg)).map((l) => l.level)).toEqual(['info']);
    // Its state read back: the failure is alerted once, with the streak the store holds.
    expect(alerts).toEqual([1]);
    expect((await runsOf(memory, 'wait-timeout')).map((r) => r.status)).toEqual(['failed']);
  });

  it('a completion refused because the run was reaped meanwhile says so, not that another runner took it over', async () => {
    const memory = createMemoryStore();
    const clock = createFakeClock(T0);
    let down = true;
    const store = faulty(memory, (method) => (down && (method === 'completeRuns' || method === 'renewLeases') ? 'before' : false));
    const warnings: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (_o, msg) => void warnings.push(msg ?? ''),
      error: () => {},
      child: () => logger,
    };
    const job = defineJob({ code: 'reaped', schedule: every('1m'), leaseTtl: 150, interruptedRetries: 0, run: () => {} });
    const tick = runDue({ jobs: [job], store, clock, runnerId: 'a', logger });
    // While its completion fails, the lease expires and another runner reaps the run.
    await new Promise((resolve) => setTimeout(resolve, 100));
    clock.advance(10_000);
    await memory.reapExpired({ now: clock.now() });
    down = false;
    const report = await tick;
    expect(report.results[0]?.outcome).toBe('interrupted');
    const refused = warnings.filter((w) => w.startsWith('result refused'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain('already recorded the run as interrupted');
    expect(refused[0]).not.toContain('taken over');
  });

  it('a completion failing through a long outage is retried until it lands: the slot runs once, succeeded', async () => {
    const memory = createMemoryStore();
    let failedCompletions = 0;
    // Six failed attempts: more than the old executor's five before it gave the result up.
    const store = faulty(memory, (method) => (method === 'completeRuns' && failedCompletions++ < 6 ? 'before' : false));
    const clock = createFakeClock(T0);
    let calls = 0;
    const job = defineJob({ code: 'once', schedule: every('1m'), run: () => void calls++ });
    const report = await runDue({ jobs: [job], store, clock, runnerId: 'a' });
    expect(report.results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(failedCompletions).toBe(7);
    clock.advance(120_000);
    await runDue({ jobs: [job], store: memory, clock, runnerId: 'b', only: ['once'] });
    const runs = await runsOf(memory, 'once');
    expect(runs.filter((r) => r.slotAt.getTime() === new Date('2026-03-02T12:00:00Z').getTime()).map((r) => r.status)).toEqual([
      'succeeded',
    ]);
    expect(calls).toBe(2); // the 12:00 slot once, then 12:02
  }, 30_000);

  it('a claim whose answer was lost is retried and gets its own run back: the handler runs once, even with interruptedRetries 0', async () => {
    const memory = createMemoryStore();
    let lost = 0;
    const store = faulty(memory, (method) => (method === 'claimSlots' && lost++ === 0 ? 'after' : false));
    let calls = 0;
    const job = defineJob({ code: 'lost-claim', schedule: every('1m'), interruptedRetries: 0, run: () => void calls++ });
    const report = await runDue({ jobs: [job], store, clock: createFakeClock(T0), runnerId: 'a' });
    expect(report.results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(report.ok).toBe(true);
    expect(calls).toBe(1);
    expect((await runsOf(memory, 'lost-claim')).map((r) => [r.status, r.attempt])).toEqual([['succeeded', 1]]);
  });

  it('a handler keeps running through renewals failing past its lease, and its result lands when the store is back', async () => {
    const memory = createMemoryStore();
    let down = true;
    const store = faulty(memory, (method) => (down && method === 'renewLeases' ? 'before' : false));
    const clock = createFakeClock(T0);
    let aborted = false;
    const job = defineJob({
      code: 'outage',
      schedule: every('1m'),
      leaseTtl: 150,
      run: (ctx) =>
        new Promise<void>((resolve) => {
          ctx.signal.addEventListener('abort', () => (aborted = true));
          clock.advance(1_000); // the lease (150 ms) runs out by this runner's clock meanwhile
          setTimeout(() => {
            down = false;
            setTimeout(resolve, 200); // a renewal lands after the store is back
          }, 200);
        }),
    });
    const report = await runDue({ jobs: [job], store, clock, runnerId: 'a' });
    expect(aborted).toBe(false);
    expect(report.results[0]?.outcome).toBe('succeeded');
  });

  it('a run reaped by another runner meanwhile is aborted at the next renewal, its late result refused, and only the reaper alerts', async () => {
    const backend = createMemoryBackend();
    const store = createMemoryStore({ backend });
    const clock = createFakeClock(T0);
    const alerts: Array<[string, number]> = [];
    const started = deferred();
    let aborted = false;
    const job = defineJob({
      code: 'taken-over',
      schedule: every('1m'),
      leaseTtl: 150,
      interruptedRetries: 0,
      onFailure: (ctx) => void alerts.push([ctx.run.status, ctx.consecutiveFailures]),
      run: (ctx) =>
        new Promise<void>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
          started.resolve();
        }),
    });
    const tick = runDue({ jobs: [job], store, clock, runnerId: 'a' });
    await started.promise;
    clock.advance(10_000);
    // Another runner's tick, at the same store, reaps the (by now expired) lease.
    await runDue({ jobs: [job], store: createMemoryStore({ backend }), clock, runnerId: 'b', only: ['taken-over'] });
    const report = await tick;
    expect(aborted).toBe(true);
    expect(report.results[0]?.run?.status).toBe('interrupted');
    expect(alerts).toEqual([['interrupted', 1]]);
  });
});

describe('faults: every failure counts (case 5)', () => {
  it('runs whose runner died feed the streak and call onFailure once each, by the one runner that reaped them', async () => {
    const backend = createMemoryBackend();
    const clock = createFakeClock(T0);
    const calls: FailureContext[] = [];
    const job = defineJob({
      code: 'oom',
      schedule: every('1m'),
      run: () => undefined,
      interruptedRetries: 0,
      failuresBeforeAlert: 3,
      onFailure: (ctx) => void calls.push(ctx),
    });
    const runners = [createMemoryStore({ backend }), createMemoryStore({ backend })];
    const ref = { code: 'oom', key: '' };
    await runners[0]?.ensureStates([ref], clock.now());
    for (let crash = 0; crash < 3; crash++) {
      const slotAt = new Date(Date.parse('2026-03-02T12:00:00Z') + crash * 60_000);
      clock.set(slotAt.getTime() + 1_000);
      // A runner claims and is OOM-killed: nobody completes its run.
      const [claimed] = await (runners[0] as Store).claimSlots(
        [{ ...ref, slotAt, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 30_000 }],
        { runnerId: `dead-${crash}`, now: clock.now() },
      );
      expect(claimed?.status).toBe('claimed');
      clock.set(slotAt.getTime() + 45_000);
      // Two live runners tick at once; the store hands each interrupted run to one of them.
      await Promise.all(runners.map((store, i) => runDue({ jobs: [job], store, clock, runnerId: `live-${i}`, only: ['oom'] })));
    }
    const [state] = await (runners[0] as Store).getStates([ref]);
    expect(state?.consecutiveFailures).toBeGreaterThanOrEqual(3);
    const interrupted = calls.filter((c) => c.run.status === 'interrupted');
    expect(interrupted.map((c) => c.consecutiveFailures)).toEqual([3]);
    expect(new Set(calls.map((c) => c.run.id)).size).toBe(calls.length);
  });
});

describe('faults: a tick isolates schedules (case 6)', () => {
  it("a claim the store keeps refusing is reported for its schedule while the others' handlers finish; its request stays pending", async () => {
    const memory = createMemoryStore();
    const clock = createFakeClock('2026-03-02T12:03:30.000Z');
    const store = faulty(memory, (method, args) => {
      if (method !== 'claimSlots') return false;
      const claims = args[0] as Array<{ code: string; trigger: string }>;
      return claims.length === 1 && claims[0]?.code === 'flaky' && claims[0].trigger === 'manual' ? 'before' : false;
    });
    const slow = deferred();
    let slowDone = false;
    const jobs = [
      defineJob({ code: 'flaky', schedule: every('1m'), run: () => undefined }),
      defineJob({
        code: 'slow',
        schedule: every('1m'),
        run: async () => {
          await slow.promise;
          slowDone = true;
        },
      }),
    ];
    await memory.ensureStates(
      [
        { code: 'flaky', key: '' },
        { code: 'slow', key: '' },
      ],
      new Date('2026-03-02T12:02:00Z'),
    );
    const request = await memory.requestRun({ code: 'flaky', key: '' }, { now: clock.now() });
    setTimeout(() => slow.resolve(), 50);
    const report = await runDue({ jobs, store, clock, runnerId: 'a' });
    expect(slowDone).toBe(true);
    const outcome = (code: string) => report.results.filter((r) => r.code === code).map((r) => r.outcome);
    expect(outcome('slow')).toEqual(['succeeded']);
    expect(outcome('flaky')).toEqual(['succeeded', 'error']);
    expect(report.results.find((r) => r.outcome === 'error')?.reason).toMatch(/store unreachable/);
    expect(report.ok).toBe(false);
    expect(await memory.pendingRunRequests()).toEqual([request]);
  }, 20_000);
});

describe('faults: a handler that ignores its signal (case 7)', () => {
  it('keeps its lease and its capacity until it settles, then is recorded timed_out; ctx.fencingToken is its token', async () => {
    const backend = createMemoryBackend();
    const store = createMemoryStore({ backend });
    const clock = createFakeClock(T0);
    const release = deferred();
    const started: string[] = [];
    let token: number | null = null;
    const jobs = [
      defineJob({
        code: 'stubborn',
        schedule: every('1m'),
        timeout: 30,
        leaseTtl: '10m',
        run: (ctx) => {
          started.push('stubborn');
          token = ctx.fencingToken;
          return release.promise; // ignores ctx.signal
        },
      }),
      defineJob({ code: 'next', schedule: every('1m'), run: () => void started.push('next') }),
    ];
    const tick = runDue({ jobs, store, clock, runnerId: 'a', maxConcurrentRuns: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200)); // well past the 30 ms timeout
    expect(started).toEqual(['stubborn']); // capacity still taken
    const [running] = (await store.queryRuns({ code: 'stubborn' })).runs;
    expect(running).toMatchObject({ status: 'running' });
    expect(running?.leaseExpiresAt).not.toBeNull();
    expect(token).toBe(running?.token);
    // The next slot meets the live lease at its instant: skipped, not run beside it.
    clock.advance(60_000);
    const other = await runDue({ jobs, store: createMemoryStore({ backend }), clock, runnerId: 'b', only: ['stubborn'] });
    expect(other.results.map((r) => r.outcome)).toEqual(['skipped']);
    release.resolve();
    const report = await tick;
    expect(report.results.map((r) => [r.code, r.outcome])).toEqual([
      ['stubborn', 'timed_out'],
      ['next', 'succeeded'],
    ]);
    expect(started).toEqual(['stubborn', 'next']);
    expect((await store.getRun(running?.id as string))?.status).toBe('timed_out');
  });
});
