import { describe, expect, it } from 'vitest';
import { createFakeClock, createMemoryStore, defineJob, runDue, type RunContext, type Store } from '../src/index.js';

type PeekOptions = Parameters<Store['pendingRunRequests']>[0];

/** The store, and a view of it that records the options of every pendingRunRequests call. */
function recorded() {
  const store = createMemoryStore();
  const reads: PeekOptions[] = [];
  const view: Store = {
    ...store,
    pendingRunRequests: (options) => {
      reads.push(options);
      return store.pendingRunRequests(options);
    },
  };
  return { store, view, reads };
}

const named = (options: PeekOptions) => options?.codes !== undefined || options?.refs !== undefined;

const quiet = (count: number) =>
  Array.from({ length: count }, (_, i) => defineJob({ code: `quiet-${i}`, schedule: '0 3 * * *', run: () => undefined }));

describe('runDue: the run-request read', () => {
  it('names no job when nothing is pending: one read whatever the number of jobs', async () => {
    const { view, reads } = recorded();
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    await runDue({ jobs: quiet(200), store: view, clock, runnerId: 'test' });
    expect(reads).toEqual([{ limit: 1000 }]);
  });

  it('names no job when the peek is not full, takes its own request and leaves the others pending', async () => {
    const { store, view, reads } = recorded();
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    const ran: string[] = [];
    const jobs = [
      defineJob({ code: 'report', schedule: '0 3 * * *', run: (ctx: RunContext) => void ran.push(ctx.trigger) }),
      ...quiet(200),
    ];
    for (let i = 0; i < 10; i++) await store.requestRun({ code: 'elsewhere', key: '' }, { now: clock.now() });
    await store.requestRun({ code: 'report', key: '' }, { now: clock.now() });
    await runDue({ jobs, store: view, clock, runnerId: 'test' });
    expect(ran).toEqual(['manual']);
    expect(reads.filter(named)).toEqual([]);
    const left = await store.pendingRunRequests();
    expect(left).toHaveLength(10);
    expect(left.every((request) => request.code === 'elsewhere')).toBe(true);
  });

  it('still finds a request of its job behind more than a thousand older ones of jobs it does not have, which stay pending', async () => {
    const { store, view, reads } = recorded();
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    const ran: string[] = [];
    const jobs = [defineJob({ code: 'report', schedule: '0 3 * * *', run: (ctx: RunContext) => void ran.push(ctx.trigger) }), ...quiet(10)];
    for (let i = 0; i < 1_001; i++) await store.requestRun({ code: 'elsewhere', key: '' }, { now: clock.now() });
    clock.advance(1);
    await store.requestRun({ code: 'report', key: '' }, { now: clock.now() });
    await runDue({ jobs, store: view, clock, runnerId: 'test' });
    expect(ran).toEqual(['manual']);
    // The full peek, then one read by the jobs' codes.
    expect(reads[0]).toEqual({ limit: 1000 });
    expect(reads[1]?.codes).toHaveLength(11);
    const left = await store.pendingRunRequests();
    expect(left).toHaveLength(1_001);
    expect(left.every((request) => request.code === 'elsewhere')).toBe(true);
  });
});
