import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  createMemoryBackend,
  createMemoryStore,
  defineConfig,
  defineJob,
  every,
  InvalidArgumentError,
  InvalidJobError,
  runDue,
  createScheduler,
  type FailureContext,
  type JobDefinition,
  type OverdueContext,
  type RecoveryContext,
  type Store,
} from '../src/index.js';

const T0 = '2026-03-02T12:00:30.000Z';
const HOUR = 3_600_000;

/** A job whose handler fails while `failing.value` is true, recording every hook call. */
function hookedJob(overrides: Partial<JobDefinition> = {}) {
  const failing = { value: false };
  const calls = { failure: [] as FailureContext[], recovery: [] as RecoveryContext[], overdue: [] as OverdueContext[] };
  const job = defineJob({
    code: 'report',
    schedule: every('1m'),
    run: () => {
      if (failing.value) throw new Error('upstream down');
    },
    onFailure: (ctx) => void calls.failure.push(ctx),
    onRecovery: (ctx) => void calls.recovery.push(ctx),
    onOverdue: (ctx) => void calls.overdue.push(ctx),
    ...overrides,
  });
  return { job, failing, calls };
}

describe('onRecovery', () => {
  it("is called once, by the runner whose success ended the streak, with the streak's failures and start", async () => {
    const { job, failing, calls } = hookedJob({ failuresBeforeAlert: 2 });
    const backend = createMemoryBackend();
    const stores = [createMemoryStore({ backend }), createMemoryStore({ backend })];
    const clock = createFakeClock(T0);
    // Two runners with separate stores on one backend, taking turns minute by minute.
    const tick = (i: number) => runDue({ jobs: [job], store: stores[i % 2] as Store, clock, runnerId: `runner-${i % 2}` });
    await tick(0);
    failing.value = true;
    for (let minute = 1; minute <= 3; minute++) {
      clock.set(new Date(Date.parse(T0) + minute * 60_000));
      await tick(minute);
    }
    expect(calls.failure.map((c) => [c.consecutiveFailures, c.failuresBeforeAlert, c.streakStartedAt?.toISOString()])).toEqual([
      [2, 2, '2026-03-02T12:01:30.000Z'],
      [3, 2, '2026-03-02T12:01:30.000Z'],
    ]);
    failing.value = false;
    clock.set(new Date(Date.parse(T0) + 4 * 60_000));
    await tick(4);
    expect(calls.recovery).toHaveLength(1);
    const recovery = calls.recovery[0] as RecoveryContext;
    expect(recovery).toMatchObject({ code: 'report', key: '', failures: 3, failuresBeforeAlert: 2, overdue: null });
    expect(recovery.streakStartedAt?.toISOString()).toBe('2026-03-02T12:01:30.000Z');
    expect(recovery.run).toMatchObject({ status: 'succeeded', runnerId: 'runner-0' });
    // Later successes end no streak: no second call.
    clock.set(new Date(Date.parse(T0) + 5 * 60_000));
    await tick(5);
    expect(calls.recovery).toHaveLength(1);
  });

  it('counts a run interrupted by a reap, and a hook that throws is logged, not rethrown', async () => {
    const lines: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (_obj: object, msg?: string) => void lines.push(msg ?? ''),
      child() {
        return logger;
      },
    };
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const job = defineJob({
      code: 'crashy',
      schedule: every('1m'),
      leaseTtl: '1s',
      run: () => {},
      onRecovery: () => {
        throw new Error('pager down');
      },
    });
    // A runner that died holding the run: its lease expires and the next tick reaps it.
    const [claim] = await store.claimSlots(
      [
        {
          code: 'crashy',
          key: '',
          slotAt: new Date('2026-03-02T12:00:00Z'),
          attempt: 1,
          trigger: 'schedule',
          overlap: 'skip',
          leaseMs: 1_000,
        },
      ],
      { runnerId: 'dead', now: clock.now() },
    );
    expect(claim?.status).toBe('claimed');
    clock.set('2026-03-02T12:01:05Z');
    const report = await runDue({ jobs: [job], store, clock, logger, runnerId: 'alive' });
    expect(report.results.map((r) => r.outcome)).toContain('succeeded');
    expect(lines).toContain('onRecovery hook threw');
    const [state] = await store.getStates([{ code: 'crashy', key: '' }]);
    expect(state).toMatchObject({ endedStreak: 1, consecutiveFailures: 0 });
  });
});

describe('dead-man alerts (expectSuccessWithin)', () => {
  it('alerts once, through one of two runners, when nothing succeeds within the window — then recovery notes it', async () => {
    const { job, failing, calls } = hookedJob({ expectSuccessWithin: '2h', schedule: every('30m') });
    const backend = createMemoryBackend();
    const stores = [createMemoryStore({ backend }), createMemoryStore({ backend })];
    const clock = createFakeClock('2026-03-02T12:00:00.000Z');
    const tick = (i: number) => runDue({ jobs: [job], store: stores[i % 2] as Store, clock, runnerId: `runner-${i % 2}` });
    await tick(0); // 12:00 succeeds
    failing.value = true;
    let i = 1;
    for (const at of ['12:30', '13:00', '13:30', '13:59']) {
      clock.set(`2026-03-02T${at}:00.000Z`);
      await tick(i++);
    }
    expect(calls.overdue).toEqual([]);
    // 14:00:01: more than two hours since the 12:00 success ended; both runners check, one alerts.
    clock.set('2026-03-02T14:00:01.000Z');
    await tick(i++);
    await tick(i++);
    clock.set('2026-03-02T14:20:00.000Z');
    await tick(i++);
    expect(calls.overdue).toHaveLength(1);
    const overdue = calls.overdue[0] as OverdueContext;
    expect(overdue).toMatchObject({ code: 'report', key: '', expectSuccessWithinMs: 2 * HOUR });
    expect(overdue.lastSucceededAt?.toISOString()).toBe('2026-03-02T12:00:00.000Z');
    expect(overdue.overdueSince.toISOString()).toBe('2026-03-02T14:00:00.000Z');
    expect(overdue.alertedAt.toISOString()).toBe('2026-03-02T14:00:01.000Z');
    // The next success calls onRecovery once, with the streak and the overdue episode.
    failing.value = false;
    clock.set('2026-03-02T14:30:00.000Z');
    await tick(i++);
    await tick(i++);
    expect(calls.recovery).toHaveLength(1);
    expect(calls.recovery[0]).toMatchObject({ failures: 4 });
    expect(calls.recovery[0]?.overdue?.alertedAt.toISOString()).toBe('2026-03-02T14:00:01.000Z');
    expect(calls.recovery[0]?.overdue?.expectSuccessWithinMs).toBe(2 * HOUR);
    expect(calls.overdue).toHaveLength(1);
  });

  it('a paused job still alerts; a job disabled in code never does', async () => {
    const paused = hookedJob({ code: 'paused-job', expectSuccessWithin: HOUR });
    const disabled = hookedJob({ code: 'off', expectSuccessWithin: HOUR, enabled: false });
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const jobs = [paused.job, disabled.job];
    await runDue({ jobs, store, clock });
    await store.setPaused({ code: 'paused-job', key: '' }, true, { now: clock.now() });
    clock.set('2026-03-02T14:00:00Z');
    await runDue({ jobs, store, clock });
    expect(paused.calls.overdue.map((c) => c.code)).toEqual(['paused-job']);
    expect(disabled.calls.overdue).toEqual([]);
  });

  it("a runner without the job alerts through the config's onOverdue, from the window the job's runner stored", async () => {
    const backend = createMemoryBackend();
    const clock = createFakeClock(T0);
    const owner = defineJob({ code: 'owned', schedule: every('1h'), expectSuccessWithin: '90m', run: () => {} });
    const other = defineJob({ code: 'other', schedule: every('1h'), run: () => {} });
    await runDue({ jobs: [owner], store: createMemoryStore({ backend }), clock });
    // The owner's runner is gone; another deployment's runner, with only its own job, keeps checking.
    const seen: OverdueContext[] = [];
    const store = createMemoryStore({ backend });
    clock.set('2026-03-02T13:30:00Z');
    await runDue({ jobs: [other], store, clock });
    expect(seen).toEqual([]);
    // Without a fallback it takes no alert of a job it does not define.
    await runDue({ jobs: [other], store, clock });
    expect((await store.getStates([{ code: 'owned', key: '' }]))[0]?.overdueAlertedAt).toBeNull();
    clock.set('2026-03-02T13:31:00Z');
    await runDue({ jobs: [other], store, clock, onOverdue: (ctx) => void seen.push(ctx) });
    await runDue({ jobs: [other], store, clock, onOverdue: (ctx) => void seen.push(ctx) });
    expect(seen.map((c) => [c.code, c.expectSuccessWithinMs, c.lastSucceededAt?.toISOString()])).toEqual([['owned', 90 * 60_000, T0]]);
  });

  it("a runtime schedule has its own window, else its job's", async () => {
    const { job, calls } = hookedJob({ code: 'tenant-sync', schedule: null, expectSuccessWithin: '3h' });
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const schedules = createScheduler({ jobs: [job], store, clock }).schedules('tenant-sync');
    await schedules.upsert([
      { key: 'acme', schedule: every('1d'), expectSuccessWithin: '1h' },
      { key: 'globex', schedule: every('1d') },
    ]);
    clock.set('2026-03-02T13:30:31Z');
    await runDue({ jobs: [job], store, clock });
    clock.set('2026-03-02T15:30:31Z');
    await runDue({ jobs: [job], store, clock });
    expect(calls.overdue.map((c) => [c.key, c.expectSuccessWithinMs])).toEqual([
      ['acme', HOUR],
      ['globex', 3 * HOUR],
    ]);
  });

  it('refuses a window that is negative, zero or not a duration, naming the job and the field', () => {
    for (const bad of [-5, 0, '-1h', 'soon', '0s']) {
      expect(() => defineJob({ code: 'nightly', schedule: every('1h'), run: () => {}, expectSuccessWithin: bad as string })).toThrow(
        InvalidJobError,
      );
      expect(() => defineJob({ code: 'nightly', schedule: every('1h'), run: () => {}, expectSuccessWithin: bad as string })).toThrow(
        /job "nightly": expectSuccessWithin/,
      );
    }
    expect(() => defineJob({ code: 'nightly', schedule: every('1h'), run: () => {}, onOverdue: 'page me' as never })).toThrow(
      /job "nightly": onOverdue must be a function/,
    );
    expect(() => defineJob({ code: 'nightly', schedule: every('1h'), run: () => {}, onRecovery: 1 as never })).toThrow(
      /job "nightly": onRecovery must be a function/,
    );
    expect(() => defineConfig({ jobs: [], store: createMemoryStore(), onOverdue: true as never })).toThrow(
      /config: onOverdue must be a function/,
    );
    expect(defineJob({ code: 'nightly', schedule: every('1h'), run: () => {}, expectSuccessWithin: '2h' }).expectSuccessWithinMs).toBe(
      2 * HOUR,
    );
  });

  it('refuses a runtime schedule window that is not a positive duration, naming job, key and field, and stores nothing', async () => {
    const job = defineJob({ code: 'tenant-sync', schedule: null, run: () => {} });
    const store = createMemoryStore();
    const schedules = createScheduler({ jobs: [job], store, clock: createFakeClock(T0) }).schedules('tenant-sync');
    for (const bad of [0, -1, 'later']) {
      const attempt = schedules.upsert({ key: 'acme', schedule: every('1d'), expectSuccessWithin: bad as string });
      await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(schedules.upsert({ key: 'acme', schedule: every('1d'), expectSuccessWithin: bad as string })).rejects.toThrow(
        /job "tenant-sync" schedule "acme": expectSuccessWithin/,
      );
    }
    expect((await store.listSchedules()).schedules).toEqual([]);
  });
});
