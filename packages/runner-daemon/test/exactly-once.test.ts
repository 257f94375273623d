import { every, defineJob, type RunContext } from '@tickwork/core';
import { jitterMs } from '@tickwork/core/runner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { advance, fakeTime, START, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('several daemons on one store', () => {
  it('run each slot of an every-second job exactly once, starting at the slot instant', async () => {
    fakeTime();
    const starts: Array<{ slot: number; at: number; runner: string }> = [];
    const job = defineJob({
      code: 'tick',
      schedule: every('1s'),
      run: (ctx: RunContext) => {
        starts.push({ slot: ctx.slot.getTime(), at: Date.now(), runner: ctx.runnerId });
      },
    });
    const { daemons, store } = await startDaemons(3, [job]);
    await advance(10_000);
    await stopAll(daemons);

    const slots = starts.map((s) => s.slot);
    expect(new Set(slots).size).toBe(slots.length);
    // Every instant from START (the slot a new job catches up at start, per core's `latest` policy) to START+10s.
    expect([...slots].sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => START.getTime() + i * 1000));
    for (const s of starts) expect(s.at).toBe(s.slot);
    const { runs } = await store.queryRuns({ code: 'tick', limit: 100 });
    expect(runs.map((r) => r.status).filter((s) => s !== 'succeeded')).toEqual([]);
    expect(runs).toHaveLength(11);
  });

  it('start a jittered slot at its deterministic delay, once', async () => {
    fakeTime();
    const job = defineJob({ code: 'spread', schedule: every('10s'), jitter: '5s', run: () => undefined });
    const end = START.getTime() + 30_000;
    const starts: Array<{ slot: number; at: number }> = [];
    const jittered = defineJob({
      code: 'spread',
      schedule: every('10s'),
      jitter: '5s',
      run: (ctx: RunContext) => {
        starts.push({ slot: ctx.slot.getTime(), at: Date.now() });
      },
    });
    const { daemons } = await startDaemons(2, [jittered]);
    await advance(30_000);
    await stopAll(daemons);
    const onTime = starts.filter((s) => s.slot >= START.getTime());
    const expected = [0, 1, 2, 3]
      .map((i) => START.getTime() + i * 10_000)
      .filter((slot) => slot + jitterMs(job, '', new Date(slot)) <= end);
    expect(onTime.map((s) => s.slot)).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    for (const s of onTime) expect(s.at - s.slot).toBe(jitterMs(job, '', new Date(s.slot)));
    expect(new Set(expected.map((slot) => jitterMs(job, '', new Date(slot)))).size).toBeGreaterThan(1);
  });

  it('claim no more than their free capacity, so a burst is shared', async () => {
    fakeTime();
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const ran: string[] = [];
    const jobs = Array.from({ length: 6 }, (_, i) =>
      defineJob({
        code: `burst-${i}`,
        schedule: '* * * * *',
        run: async (ctx: RunContext) => {
          ran.push(ctx.code);
          running.set(ctx.runnerId, (running.get(ctx.runnerId) ?? 0) + 1);
          peak.set(ctx.runnerId, Math.max(peak.get(ctx.runnerId) ?? 0, running.get(ctx.runnerId) ?? 0));
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          running.set(ctx.runnerId, (running.get(ctx.runnerId) ?? 0) - 1);
        },
      }),
    );
    const { daemons } = await startDaemons(3, jobs, { maxConcurrentRuns: 2 });
    await advance(60_000 + 1_000);
    await stopAll(daemons);
    // Two slots per job (START, caught up at start, and START+1min), each run once.
    expect([...ran].sort()).toEqual(jobs.flatMap((j) => [j.code, j.code]).sort());
    expect([...peak.values()]).toEqual([2, 2, 2]);
  });

  it('leave what they cannot run to the next daemon with capacity, then run it when capacity frees', async () => {
    fakeTime();
    const ran: Array<{ code: string; at: number }> = [];
    const jobs = Array.from({ length: 3 }, (_, i) =>
      defineJob({
        code: `slow-${i}`,
        schedule: '* * * * *',
        run: async (ctx: RunContext) => {
          ran.push({ code: ctx.code, at: Date.now() });
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        },
      }),
    );
    const { daemons } = await startDaemons(1, jobs, { maxConcurrentRuns: 2 });
    await advance(60_000 + 5_000);
    await stopAll(daemons);
    expect(ran).toHaveLength(6);
    for (const minute of [START.getTime(), START.getTime() + 60_000]) {
      expect(ran.filter((r) => r.at === minute)).toHaveLength(2);
      // The third waited for a free place (2 s handlers) rather than being dropped.
      expect(ran.filter((r) => r.at >= minute + 2_000 && r.at < minute + 2_010)).toHaveLength(1);
    }
  });
});
