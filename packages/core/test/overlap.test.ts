// Issue #15 cases 2 and 4 and the overlap policies end to end: two runners (two runDue calls on
// stores sharing one memory backend), a fake clock, handlers held open by gates.
import { describe, expect, it } from 'vitest';
import { deferred, runsOf } from './run-fixtures.js';
import {
  createFakeClock,
  createMemoryBackend,
  createMemoryStore,
  defineJob,
  every,
  runDue,
  type JobDefinition,
  type Store,
} from '../src/index.js';

/** Two runners on one backend, one fake clock. */
function twoRunners(definition: JobDefinition, start: string) {
  const backend = createMemoryBackend();
  const clock = createFakeClock(start);
  const job = defineJob(definition);
  const stores = [createMemoryStore({ backend }), createMemoryStore({ backend })] as const;
  const tick = (runner: 0 | 1) => runDue({ jobs: [job], store: stores[runner], clock, runnerId: `runner-${runner}` });
  return { clock, stores, tick };
}

/** Resolves once `started` has `n` entries. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('backfill with a second runner (case 2)', () => {
  it("owed slots meeting the first runner's lease wait instead of being skipped: all 6 run, in order", async () => {
    const gate = deferred();
    const started: string[] = [];
    const { clock, stores, tick } = twoRunners(
      {
        code: 'backfill',
        schedule: every('1m'),
        missedRunPolicy: { all: { within: '1h' } },
        run: async (ctx) => {
          started.push(ctx.slot.toISOString().slice(11, 16));
          if (started.length === 1) await gate.promise;
        },
      },
      '2026-03-02T12:00:00.000Z',
    );
    await stores[0].ensureStates([{ code: 'backfill', key: '' }], clock.now());
    clock.set('2026-03-02T12:05:30.000Z'); // 12:00 … 12:05 are owed
    const a = tick(0);
    await until(() => started.length === 1);
    const b = await tick(1);
    expect(b.results.map((r) => r.outcome)).toEqual(['busy']);
    gate.resolve();
    const report = await a;
    expect(report.results.map((r) => r.outcome)).toEqual(Array(6).fill('succeeded'));
    expect(started).toEqual(['12:00', '12:01', '12:02', '12:03', '12:04', '12:05']);
    expect((await runsOf(stores[0], 'backfill')).filter((r) => r.status === 'skipped')).toEqual([]);
  });
});

describe('overlap policies end to end', () => {
  it('bufferAll: slots due while the run goes on wait, and run in order as soon as it ends', async () => {
    const gate = deferred();
    const started: string[] = [];
    const { clock, stores, tick } = twoRunners(
      {
        code: 'buffered',
        schedule: every('1m'),
        overlapPolicy: 'bufferAll',
        leaseTtl: '10m',
        run: async (ctx) => {
          started.push(ctx.slot.toISOString().slice(11, 16));
          if (started.length === 1) await gate.promise;
        },
      },
      '2026-03-02T12:00:01.000Z',
    );
    const a = tick(0);
    await until(() => started.length === 1);
    clock.set('2026-03-02T12:01:00.000Z');
    expect((await tick(1)).results.map((r) => r.outcome)).toEqual(['waiting']);
    clock.set('2026-03-02T12:02:00.000Z');
    // The 12:01 slot, already waiting, is busy; 12:02 queues behind it.
    expect((await tick(1)).results.map((r) => r.outcome)).toEqual(['busy', 'waiting']);
    const [state] = await stores[1].getStates([{ code: 'buffered', key: '' }]);
    expect(state?.waitingSlotAt?.toISOString()).toBe('2026-03-02T12:01:00.000Z');
    gate.resolve();
    const report = await a;
    expect(report.results.map((r) => [r.slotAt?.toISOString().slice(11, 16), r.outcome])).toEqual([
      ['12:00', 'succeeded'],
      ['12:01', 'succeeded'],
      ['12:02', 'succeeded'],
    ]);
    expect(started).toEqual(['12:00', '12:01', '12:02']);
  });

  it('bufferOne: one slot waits and runs; the next one due meanwhile is skipped with a reason', async () => {
    const gate = deferred();
    const started: string[] = [];
    const { clock, stores, tick } = twoRunners(
      {
        code: 'one',
        schedule: every('1m'),
        overlapPolicy: 'bufferOne',
        leaseTtl: '10m',
        run: async (ctx) => {
          started.push(ctx.slot.toISOString().slice(11, 16));
          if (started.length === 1) await gate.promise;
        },
      },
      '2026-03-02T12:00:01.000Z',
    );
    const a = tick(0);
    await until(() => started.length === 1);
    clock.set('2026-03-02T12:01:00.000Z');
    await tick(1);
    clock.set('2026-03-02T12:02:00.000Z');
    const skipped = await tick(1);
    expect(skipped.results.map((r) => r.outcome)).toEqual(['busy', 'skipped']);
    expect(skipped.results[1]?.reason).toMatch(/already waits/);
    gate.resolve();
    await a;
    expect(started).toEqual(['12:00', '12:01']);
    expect((await runsOf(stores[0], 'one')).map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'skipped']);
  });

  it('cancelOther: the running handler is aborted through its signal (not alerted as a failure), then the new slot runs', async () => {
    const started: string[] = [];
    const alerts: string[] = [];
    const { clock, stores, tick } = twoRunners(
      {
        code: 'replace',
        schedule: every('1m'),
        overlapPolicy: 'cancelOther',
        leaseTtl: 150,
        onFailure: (ctx) => void alerts.push(ctx.run.status),
        run: (ctx) =>
          new Promise<void>((resolve) => {
            started.push(ctx.slot.toISOString().slice(11, 16));
            if (started.length > 1) resolve();
            else ctx.signal.addEventListener('abort', () => resolve());
          }),
      },
      '2026-03-02T12:00:01.000Z',
    );
    const a = tick(0);
    await until(() => started.length === 1);
    // The next instant comes; the first run's renewals (every 50 ms) keep its lease live on the fake clock.
    clock.set('2026-03-02T12:01:00.000Z');
    const first = (await stores[0].queryRuns({ code: 'replace' })).runs[0];
    let expires = 0;
    await until(() => {
      void stores[0].getRun(first?.id as string).then((run) => (expires = run?.leaseExpiresAt?.getTime() ?? 0));
      return expires > clock.now().getTime();
    });
    expect((await tick(1)).results.map((r) => r.outcome)).toEqual(['waiting']);
    const report = await a;
    expect(report.results.map((r) => r.outcome)).toEqual(['interrupted', 'succeeded']);
    expect(report.results[0]?.reason).toMatch(/cancelled/);
    expect(started).toEqual(['12:00', '12:01']);
    expect(alerts).toEqual([]);
    expect((await runsOf(stores[0], 'replace')).map((r) => r.status)).toEqual(['interrupted', 'succeeded']);
  });
});

describe('run now (case 4)', () => {
  it('a request made in the second of a scheduled run that just finished runs, and so does a second click in that second', async () => {
    let calls = 0;
    const { clock, stores, tick } = twoRunners({ code: 'now', schedule: every('1m'), run: () => void calls++ }, '2026-03-02T12:00:00.200Z');
    expect((await tick(0)).results.map((r) => r.outcome)).toEqual(['succeeded']);
    await stores[0].requestRun({ code: 'now', key: '' }, { now: new Date('2026-03-02T12:00:00.400Z') });
    await stores[0].requestRun({ code: 'now', key: '' }, { now: new Date('2026-03-02T12:00:00.600Z') });
    clock.set('2026-03-02T12:00:00.700Z');
    const report = await tick(1);
    expect(report.results.map((r) => [r.outcome, r.run?.trigger])).toEqual([
      ['succeeded', 'manual'],
      ['succeeded', 'manual'],
    ]);
    expect(calls).toBe(3);
    expect(await stores[0].pendingRunRequests()).toEqual([]);
  });

  it('a request made while the job runs (bufferAll) stays pending, visibly, and runs once after the run ends', async () => {
    const gate = deferred();
    const started: string[] = [];
    const { clock, stores, tick } = twoRunners(
      {
        code: 'busy-now',
        schedule: every('1h'),
        overlapPolicy: 'bufferAll',
        leaseTtl: '10m',
        run: async (ctx) => {
          started.push(ctx.trigger);
          if (started.length === 1) await gate.promise;
        },
      },
      '2026-03-02T12:00:01.000Z',
    );
    const a = tick(0);
    await until(() => started.length === 1);
    const request = await stores[1].requestRun({ code: 'busy-now', key: '' }, { now: clock.now() });
    expect((await tick(1)).results.map((r) => r.outcome)).toEqual(['busy']);
    expect(await stores[1].pendingRunRequests()).toEqual([request]);
    gate.resolve();
    await a;
    clock.advance(1_000);
    expect((await tick(1)).results.map((r) => [r.outcome, r.run?.requestId])).toEqual([['succeeded', request.id]]);
    expect(started).toEqual(['schedule', 'manual']);
    expect(await stores[1].pendingRunRequests()).toEqual([]);
  });
});
