// Issue #15 cases 3 and 5 in the daemon, and overlap policies across daemons (fake time, shared memory backend).
import { defineJob, every, type FailureContext, type RunContext } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { advance, fakeTime, START, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('overlap across daemons', () => {
  it("a run ending 0.2 s before the next instant does not turn the other daemon's pre-claim into a skip (case 3)", async () => {
    fakeTime();
    const starts: Array<{ slot: number; at: number }> = [];
    const job = defineJob({
      code: 'busy-second',
      schedule: every('1s'),
      run: async (ctx: RunContext) => {
        starts.push({ slot: ctx.slot.getTime(), at: Date.now() });
        await sleep(800);
      },
    });
    const { daemons, store } = await startDaemons(2, [job], { preClaimMs: 500 });
    await advance(10_000);
    await stopAll(daemons);
    const { runs } = await store.queryRuns({ code: 'busy-second', limit: 100 });
    expect(runs.filter((r) => r.status === 'skipped')).toEqual([]);
    expect(starts.map((s) => s.slot)).toEqual(Array.from({ length: 11 }, (_, i) => START.getTime() + i * 1000));
    for (const s of starts) expect(s.at).toBe(s.slot);
  });

  it('bufferAll: slots due while a long run goes on wait and run one after the other, in order, on either daemon', async () => {
    fakeTime();
    const spans: Array<{ slot: number; from: number; to: number }> = [];
    const job = defineJob({
      code: 'long',
      schedule: every('10s'),
      overlapPolicy: 'bufferAll',
      run: async (ctx: RunContext) => {
        const from = Date.now();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 25_000);
          ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
        });
        spans.push({ slot: ctx.slot.getTime(), from, to: Date.now() });
      },
    });
    const { daemons, store } = await startDaemons(2, [job], { shutdownGraceMs: 1_000 });
    await advance(80_000);
    await stopAll(daemons);
    const { runs } = await store.queryRuns({ code: 'long', limit: 100 });
    expect(runs.filter((r) => r.status === 'skipped')).toEqual([]);
    // 0 s → 25 s, 10 s → 50 s, 20 s → 75 s: each started when the previous ended, in slot order.
    expect(spans.slice(0, 3).map((s) => [(s.slot - START.getTime()) / 1000, Math.floor((s.from - START.getTime()) / 1000)])).toEqual([
      [0, 0],
      [10, 25],
      [20, 50],
    ]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]?.from).toBeGreaterThanOrEqual(spans[i - 1]?.to as number);
    expect(runs.filter((r) => r.status === 'waiting').length).toBeGreaterThan(0);
  });
});

describe('crashes alert (case 5)', () => {
  it("a dead runner's expired run is recorded interrupted and alerts once, though two daemons poll", async () => {
    fakeTime();
    const alerts: FailureContext[] = [];
    const job = defineJob({
      code: 'crashy',
      schedule: '0 0 1 1 *',
      interruptedRetries: 0,
      leaseTtl: '5s',
      onFailure: (ctx) => void alerts.push(ctx),
      run: () => undefined,
    });
    const { daemons, store } = await startDaemons(2, [job]);
    const [claimed] = await store.claimSlots(
      [
        {
          code: 'crashy',
          key: '',
          slotAt: new Date(START.getTime() - 60_000),
          attempt: 1,
          trigger: 'retry',
          overlap: 'skip',
          leaseMs: 5_000,
        },
      ],
      { runnerId: 'oom-killed', now: new Date() },
    );
    expect(claimed?.status).toBe('claimed');
    await advance(10_000);
    await stopAll(daemons);
    expect(alerts.map((a) => [a.run.status, a.consecutiveFailures, a.run.runnerId])).toEqual([['interrupted', 1, 'oom-killed']]);
  });
});
