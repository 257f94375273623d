import { describe, expect, it } from 'vitest';
import {
  type ScheduleSpec,
  createFakeClock,
  createMemoryStore,
  dailyAt,
  defineJob,
  every,
  runDue,
  UnknownJobError,
  type JobDefinition,
  type RunContext,
  type Store,
} from '../src/index.js';
import { type RuntimeScheduleInput } from '../src/entry/store.js';

const T0 = '2026-03-02T12:00:30.000Z';

function runtimeInput(code: string, key: string, schedule: ScheduleSpec): RuntimeScheduleInput {
  return {
    code,
    key,
    schedule,
    timezone: null,
    payload: null,
    enabled: true,
    startAt: null,
    expiresAt: null,
    description: null,
    options: {},
  };
}

function setup(definitions: JobDefinition[], start = T0) {
  const store = createMemoryStore();
  const clock = createFakeClock(start);
  const jobs = definitions.map((d) => defineJob(d));
  const tick = (extra: Partial<Parameters<typeof runDue>[0]> = {}) => runDue({ jobs, store, clock, runnerId: 'test-runner', ...extra });
  return { store, clock, tick };
}

async function runsOf(store: Store, code: string) {
  const { runs } = await store.queryRuns({ code, limit: 1000 });
  return runs.reverse();
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('runDue: due logic', () => {
  it('runs a slot once, then waits for the next one', async () => {
    const calls: string[] = [];
    const { clock, tick, store } = setup([{ code: 'm', schedule: every('1m'), run: (ctx) => void calls.push(ctx.slot.toISOString()) }]);
    const first = await tick();
    expect(first.results.map((r) => r.outcome)).toEqual(['succeeded']);
    clock.set('2026-03-02T12:00:50Z');
    const second = await tick();
    expect(second.results[0]).toMatchObject({ outcome: 'not-due', nextSlotAt: new Date('2026-03-02T12:01:00Z') });
    clock.set('2026-03-02T12:01:02Z');
    await tick();
    expect(calls).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T12:01:00.000Z']);
    expect((await runsOf(store, 'm')).map((r) => [r.status, r.trigger, r.attempt, r.runnerId])).toEqual([
      ['succeeded', 'schedule', 1, 'test-runner'],
      ['succeeded', 'schedule', 1, 'test-runner'],
    ]);
  });

  it('does not catch up slots from before the store first saw the job', async () => {
    const calls: Date[] = [];
    const { tick } = setup(
      [{ code: 'night', schedule: dailyAt('03:00'), run: (ctx) => void calls.push(ctx.slot) }],
      '2026-03-02T14:00:00Z',
    );
    const report = await tick();
    expect(report.results[0]).toMatchObject({ outcome: 'not-due', nextSlotAt: new Date('2026-03-03T03:00:00Z') });
    expect(calls).toEqual([]);
  });

  it('latest policy runs only the most recent missed slot, once', async () => {
    const calls: string[] = [];
    const { clock, tick } = setup(
      [{ code: 'five', schedule: every('5m'), run: (ctx) => void calls.push(ctx.slot.toISOString()) }],
      '2026-03-02T12:00:10Z',
    );
    await tick();
    clock.set('2026-03-02T12:17:00Z'); // runner was down for 12:05, 12:10, 12:15
    await tick();
    clock.set('2026-03-02T12:18:00Z');
    await tick();
    expect(calls).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T12:15:00.000Z']);
  });

  it('skip policy drops slots older than the grace and runs the next one', async () => {
    const calls: string[] = [];
    const { clock, tick } = setup(
      [{ code: 'skip', schedule: every('5m'), missedRunPolicy: 'skip', run: (ctx) => void calls.push(ctx.slot.toISOString()) }],
      '2026-03-02T12:00:10Z',
    );
    await tick();
    clock.set('2026-03-02T12:17:00Z');
    const late = await tick();
    expect(late.results[0]?.outcome).toBe('not-due');
    clock.set('2026-03-02T12:20:05Z');
    await tick();
    expect(calls).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T12:20:00.000Z']);
  });

  it('all policy backfills every missed slot within the window, in order', async () => {
    const calls: string[] = [];
    const { clock, tick, store } = setup(
      [
        {
          code: 'all',
          schedule: every('5m'),
          missedRunPolicy: { all: { within: '10m' } },
          run: (ctx) => void calls.push(ctx.slot.toISOString()),
        },
      ],
      '2026-03-02T12:00:10Z',
    );
    await tick();
    clock.set('2026-03-02T12:17:00Z');
    const report = await tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded']);
    expect(calls).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T12:10:00.000Z', '2026-03-02T12:15:00.000Z']);
    const runs = await runsOf(store, 'all');
    expect(runs.filter((r) => r.status !== 'succeeded')).toMatchObject([
      // 12:05 fell outside the 10-minute backfill window: one skipped record says why.
      { status: 'skipped', attempt: 0, slotAt: new Date('2026-03-02T12:05:00Z'), slotCount: 1, skipReason: 'missed-run-policy' },
    ]);
    expect(runs.filter((r) => r.status === 'succeeded')).toHaveLength(3);
  });

  it('honours startAt and expiresAt', async () => {
    const calls: string[] = [];
    const { clock, tick } = setup(
      [
        {
          code: 'window',
          schedule: every('1m'),
          startAt: '2026-03-02T12:02:00Z',
          expiresAt: '2026-03-02T12:03:30Z',
          run: (ctx) => void calls.push(ctx.slot.toISOString()),
        },
      ],
      '2026-03-02T12:01:05Z',
    );
    for (const at of ['12:01:05', '12:02:05', '12:03:05', '12:04:05', '12:05:05']) {
      clock.set(`2026-03-02T${at}Z`);
      await tick();
    }
    expect(calls).toEqual(['2026-03-02T12:02:00.000Z', '2026-03-02T12:03:00.000Z']);
  });

  it('never claims a disabled job', async () => {
    const { tick, store } = setup([{ code: 'off', schedule: every('1m'), enabled: false, run: () => undefined }]);
    const report = await tick();
    expect(report.results[0]).toMatchObject({ outcome: 'disabled' });
    expect(await runsOf(store, 'off')).toEqual([]);
  });

  it('applies a deterministic jitter within the configured bound', async () => {
    const calls: number[] = [];
    const { clock, tick } = setup(
      [{ code: 'herd', schedule: every('1h'), jitter: '10m', run: (ctx) => void calls.push(ctx.slot.getTime()) }],
      '2026-03-02T11:59:00Z',
    );
    await tick();
    const report = await tick();
    const due = report.results[0]?.nextSlotAt as Date;
    const offset = due.getTime() - Date.parse('2026-03-02T12:00:00Z');
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(600_000);
    clock.set(due.getTime() - 1);
    await tick();
    expect(calls).toEqual([]);
    clock.set(due);
    await tick();
    expect(calls).toEqual([Date.parse('2026-03-02T12:00:00Z')]);
  });
});

describe('runDue: outcomes and options', () => {
  it('records failures, including non-Error throws, with a readable message', async () => {
    const { tick, store } = setup([
      {
        code: 'err',
        schedule: every('1m'),
        run: () => {
          throw new TypeError('boom');
        },
      },
      {
        code: 'str',
        schedule: every('1m'),
        run: () => {
          throw 'plain string';
        },
      },
      { code: 'obj', schedule: every('1m'), run: () => Promise.reject({ reason: 42 }) },
    ]);
    const report = await tick();
    expect(report.ok).toBe(false);
    const [err] = await runsOf(store, 'err');
    expect(err).toMatchObject({ status: 'failed', error: 'boom' });
    expect(err?.stack).toContain('TypeError: boom');
    expect((await runsOf(store, 'str'))[0]).toMatchObject({ status: 'failed', error: 'plain string', stack: null });
    expect((await runsOf(store, 'obj'))[0]).toMatchObject({ status: 'failed', error: 'non-Error thrown: {"reason":42}' });
  });

  it('stores the message a handler reports', async () => {
    const { tick, store } = setup([{ code: 'msg', schedule: every('1m'), run: (ctx) => ctx.report('closed 3 events') }]);
    await tick();
    expect((await runsOf(store, 'msg'))[0]).toMatchObject({ status: 'succeeded', message: 'closed 3 events' });
  });

  it('skips a slot while the previous run still holds the lease', async () => {
    const gate = deferred();
    const started: string[] = [];
    const { clock, tick, store } = setup([
      {
        code: 'slow',
        schedule: every('1m'),
        leaseTtl: '5m',
        run: async (ctx) => {
          started.push(ctx.slot.toISOString());
          await gate.promise;
        },
      },
    ]);
    const first = tick();
    await new Promise((r) => setTimeout(r, 10));
    clock.set('2026-03-02T12:01:05Z');
    const second = await tick();
    expect(second.results[0]).toMatchObject({ outcome: 'skipped', slotAt: new Date('2026-03-02T12:01:00Z') });
    gate.resolve();
    await first;
    expect(started).toEqual(['2026-03-02T12:00:00.000Z']);
    expect((await runsOf(store, 'slow')).map((r) => [r.slotAt.toISOString(), r.status])).toEqual([
      ['2026-03-02T12:00:00.000Z', 'succeeded'],
      ['2026-03-02T12:01:00.000Z', 'skipped'],
    ]);
  });

  it('overlaps runs when allowParallelRuns is on', async () => {
    const gate = deferred();
    const started: string[] = [];
    const { clock, tick, store } = setup([
      {
        code: 'par',
        schedule: every('1m'),
        allowParallelRuns: true,
        leaseTtl: '5m',
        run: async (ctx) => {
          started.push(ctx.slot.toISOString());
          await gate.promise;
        },
      },
    ]);
    const first = tick();
    await new Promise((r) => setTimeout(r, 10));
    clock.set('2026-03-02T12:01:05Z');
    const second = tick();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T12:01:00.000Z']);
    gate.resolve();
    await Promise.all([first, second]);
    expect((await runsOf(store, 'par')).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('retries a failed slot after retryAfterFailure with the next attempt number', async () => {
    let failures = 1;
    const { clock, tick, store } = setup([
      {
        code: 'flaky',
        schedule: every('1h'),
        retryAfterFailure: '5m',
        run: () => {
          if (failures-- > 0) throw new Error('first try fails');
        },
      },
    ]);
    await tick();
    clock.set('2026-03-02T12:03:00Z');
    expect((await tick()).results[0]).toMatchObject({ outcome: 'not-due', nextSlotAt: expect.any(Date) });
    clock.set('2026-03-02T12:06:00Z');
    const retry = await tick();
    expect(retry.results[0]).toMatchObject({ outcome: 'succeeded', attempt: 2 });
    expect((await runsOf(store, 'flaky')).map((r) => [r.slotAt.toISOString(), r.attempt, r.trigger, r.status])).toEqual([
      ['2026-03-02T12:00:00.000Z', 1, 'schedule', 'failed'],
      ['2026-03-02T12:00:00.000Z', 2, 'retry', 'succeeded'],
    ]);
  });

  it('calls onFailure at every failure once the streak reaches failuresBeforeAlert', async () => {
    const alerts: number[] = [];
    const { clock, tick } = setup([
      {
        code: 'alerting',
        schedule: every('1m'),
        failuresBeforeAlert: 2,
        onFailure: (ctx) => void alerts.push(ctx.consecutiveFailures),
        run: () => {
          throw new Error('down');
        },
      },
    ]);
    for (const at of ['12:00:30', '12:01:30', '12:02:30']) {
      clock.set(`2026-03-02T${at}Z`);
      await tick();
    }
    expect(alerts).toEqual([2, 3]);
  });

  it('keeps running when the onFailure hook itself throws', async () => {
    const { tick } = setup([
      {
        code: 'hook',
        schedule: every('1m'),
        onFailure: () => {
          throw new Error('mailer down');
        },
        run: () => {
          throw new Error('x');
        },
      },
    ]);
    const report = await tick();
    expect(report.results[0]?.outcome).toBe('failed');
  });

  it('records runs as interrupted when the runner shuts down mid-run', async () => {
    const controller = new AbortController();
    const { tick, store } = setup([
      {
        code: 'long',
        schedule: every('1m'),
        run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      },
    ]);
    const running = tick({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const report = await running;
    expect(report.results[0]?.outcome).toBe('interrupted');
    expect((await runsOf(store, 'long'))[0]).toMatchObject({ status: 'interrupted', error: 'interrupted by runner shutdown' });
  });
});

describe('runDue: selection, force, dry run, pause, requests', () => {
  it('rejects an unknown code before touching the store', async () => {
    const { tick, store } = setup([{ code: 'known', schedule: every('1m'), run: () => undefined }]);
    await expect(tick({ only: ['nope'] })).rejects.toThrow(UnknownJobError);
    expect(await store.getStates()).toEqual([]);
  });

  it('force runs a job that is not due, once per second-slot even with two runners', async () => {
    let calls = 0;
    const { clock, tick, store } = setup(
      [{ code: 'daily', schedule: dailyAt('03:00'), run: () => void calls++ }],
      '2026-03-02T14:00:00.250Z',
    );
    const [a, b] = await Promise.all([
      tick({ force: true, only: ['daily'], runnerId: 'runner-a' }),
      tick({ force: true, only: ['daily'], runnerId: 'runner-b' }),
    ]);
    expect([a.results[0]?.outcome, b.results[0]?.outcome].sort()).toEqual(['succeeded', 'taken']);
    expect(calls).toBe(1);
    const [run] = await runsOf(store, 'daily');
    expect(run).toMatchObject({ trigger: 'force', slotAt: new Date('2026-03-02T14:00:00Z') });
    clock.set('2026-03-02T14:00:40Z');
    expect((await tick()).results[0]?.outcome).toBe('not-due');
  });

  it('dry run reports what would run and changes nothing', async () => {
    const { tick, store } = setup([
      {
        code: 'dry',
        schedule: every('1m'),
        run: () => {
          throw new Error('must not run');
        },
      },
    ]);
    const report = await tick({ dryRun: true });
    expect(report.results[0]).toMatchObject({ outcome: 'would-run', slotAt: new Date('2026-03-02T12:00:00Z') });
    expect(await store.getStates()).toEqual([]);
    expect((await store.queryRuns()).runs).toEqual([]);
  });

  it('does not run a paused job, and does not catch up the paused period on resume', async () => {
    const calls: string[] = [];
    const { clock, tick, store } = setup([{ code: 'p', schedule: every('1m'), run: (ctx) => void calls.push(ctx.slot.toISOString()) }]);
    await tick();
    await store.setPaused({ code: 'p', key: '' }, true, { note: 'maintenance', now: clock.now() });
    clock.set('2026-03-02T12:05:30Z');
    expect((await tick()).results[0]).toMatchObject({ outcome: 'paused', reason: 'maintenance' });
    await store.setPaused({ code: 'p', key: '' }, false, { now: clock.now() });
    expect((await tick()).results[0]?.outcome).toBe('not-due');
    clock.set('2026-03-02T12:06:01Z');
    await tick();
    expect(calls).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T12:06:00.000Z']);
  });

  it('runs a pending run-now request once as a manual run', async () => {
    let calls = 0;
    const { clock, tick, store } = setup(
      [{ code: 'ondemand', schedule: dailyAt('03:00'), run: () => void calls++ }],
      '2026-03-02T14:00:00Z',
    );
    await tick();
    await store.requestRun({ code: 'ondemand', key: '' }, { now: clock.now(), requestedBy: 'cli' });
    clock.advance(30_000);
    const report = await tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['succeeded']);
    await tick();
    expect(calls).toBe(1);
    expect((await runsOf(store, 'ondemand'))[0]).toMatchObject({ trigger: 'manual' });
  });

  async function claimAsDeadRunner(store: Store, now: Date, slotAt: string, attempt = 1) {
    await store.ensureStates([{ code: 'crashy', key: '' }], now);
    const [claim] = await store.claimSlots(
      [
        {
          code: 'crashy',
          key: '',
          slotAt: new Date(slotAt),
          attempt,
          trigger: attempt === 1 ? 'schedule' : 'retry',
          overlap: 'skip',
          leaseMs: 30_000,
        },
      ],
      { runnerId: 'dead-runner', now },
    );
    expect(claim?.status).toBe('claimed');
  }

  it('reaps a dead runner’s expired lease as interrupted and retries the slot at once', async () => {
    const { clock, tick, store } = setup([{ code: 'crashy', schedule: every('1h'), leaseTtl: '30s', run: () => undefined }]);
    await claimAsDeadRunner(store, clock.now(), '2026-03-02T12:00:00Z');
    clock.set('2026-03-02T12:01:10Z'); // lease expired at 12:01:00
    const retryTick = await tick();
    expect(retryTick.results[0]).toMatchObject({ outcome: 'succeeded', attempt: 2 });
    expect((await runsOf(store, 'crashy')).map((r) => [r.attempt, r.trigger, r.status, r.runnerId])).toEqual([
      [1, 'schedule', 'interrupted', 'dead-runner'],
      [2, 'retry', 'succeeded', 'test-runner'],
    ]);
  });

  it('retries an interrupted slot only interruptedRetries times, then waits for retryAfterFailure', async () => {
    const { clock, tick, store } = setup([
      { code: 'crashy', schedule: every('1h'), leaseTtl: '30s', retryAfterFailure: '10m', run: () => undefined },
    ]);
    await claimAsDeadRunner(store, clock.now(), '2026-03-02T12:00:00Z');
    await store.reapExpired({ now: new Date('2026-03-02T12:01:10Z') });
    await claimAsDeadRunner(store, new Date('2026-03-02T12:01:10Z'), '2026-03-02T12:00:00Z', 2);
    clock.set('2026-03-02T12:02:00Z'); // attempt 2 died too
    expect((await tick()).results[0]).toMatchObject({ outcome: 'not-due', nextSlotAt: new Date('2026-03-02T12:12:00Z') });
    clock.set('2026-03-02T12:12:00Z');
    expect((await tick()).results[0]).toMatchObject({ outcome: 'succeeded', attempt: 3 });
  });

  it('does not retry an interrupted slot when interruptedRetries is 0 and no retry policy is set', async () => {
    const { clock, tick, store } = setup([
      { code: 'crashy', schedule: every('1h'), leaseTtl: '30s', interruptedRetries: 0, run: () => undefined },
    ]);
    await claimAsDeadRunner(store, clock.now(), '2026-03-02T12:00:00Z');
    clock.set('2026-03-02T12:01:10Z');
    expect((await tick()).results[0]).toMatchObject({ outcome: 'not-due', nextSlotAt: new Date('2026-03-02T13:00:00Z') });
    expect((await runsOf(store, 'crashy')).map((r) => r.status)).toEqual(['interrupted']);
  });

  it('hands ctx the slot, attempt, trigger and ids', async () => {
    let seen: RunContext | undefined;
    const { tick } = setup([
      {
        code: 'ctx',
        schedule: every('1m'),
        run: (ctx) => {
          seen = ctx;
        },
      },
    ]);
    await tick();
    expect(seen).toMatchObject({
      code: 'ctx',
      key: '',
      slot: new Date('2026-03-02T12:00:00Z'),
      attempt: 1,
      trigger: 'schedule',
      runnerId: 'test-runner',
    });
    expect(typeof seen?.runId).toBe('string');
    expect(seen?.signal.aborted).toBe(false);
  });
});

describe('runDue: handler text every store can hold', () => {
  it('replaces NUL bytes and lone surrogates in reported messages and errors', async () => {
    const { tick, store } = setup([
      { code: 'nul', schedule: every('1m'), run: (ctx) => ctx.report('a\u0000b') },
      {
        code: 'cut',
        schedule: every('1m'),
        run: () => {
          throw new Error('boom 😀'.slice(0, 6));
        },
      },
    ]);
    await tick();
    expect((await runsOf(store, 'nul'))[0]).toMatchObject({ status: 'succeeded', message: 'a\uFFFDb' });
    expect((await runsOf(store, 'cut'))[0]).toMatchObject({ status: 'failed', error: 'boom \uFFFD' });
  });
});

describe('runDue: review regressions', () => {
  it('leaves run-now requests of paused jobs and of paused runtime schedules pending instead of dropping them', async () => {
    const { clock, tick, store } = setup(
      [
        { code: 'p', schedule: dailyAt('03:00'), run: () => undefined },
        { code: 'k', schedule: dailyAt('03:00'), run: () => undefined },
      ],
      '2026-03-02T14:00:00Z',
    );
    await tick();
    await store.upsertSchedules([runtimeInput('k', 'tenant-1', dailyAt('04:00'))], clock.now());
    await store.setPaused({ code: 'p', key: '' }, true, { now: clock.now() });
    await store.setPaused({ code: 'k', key: 'tenant-1' }, true, { now: clock.now() });
    await store.requestRun({ code: 'p', key: '' }, { now: clock.now() });
    await store.requestRun({ code: 'k', key: 'tenant-1' }, { now: clock.now(), requestedBy: 'api' });
    await tick();
    const pending = await store.pendingRunRequests();
    expect(pending.map((r) => [r.code, r.key, r.requestedBy, r.requestedAt.toISOString()])).toEqual([
      ['p', '', null, '2026-03-02T14:00:00.000Z'],
      ['k', 'tenant-1', 'api', '2026-03-02T14:00:00.000Z'],
    ]);
  });
});
