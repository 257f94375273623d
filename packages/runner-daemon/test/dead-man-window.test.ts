/**
 * A daemon stores its job's dead-man window with the job's first completion, not only at its
 * periodic dead-man check: a daemon stopped (or killed) before its first check must still leave
 * the window for the other runners, or nobody ever raises the alert. Found by the two-process
 * test in dead-man.test.ts: the owner ran twice and was stopped 110 ms after it started, before
 * its first check at 200 ms; the watcher waited 60 s for an alert that no stored window allowed.
 */
import { defineJob, every, silentLogger, type OverdueContext } from '@tickwork/core';
import { checkOverdue } from '@tickwork/core/runner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { advance, fakeTime, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the dead-man window of a daemon that never made a dead-man check', () => {
  it('is stored by the completion of its first run, so another runner alerts once the window ran out', async () => {
    const clock = fakeTime();
    const job = defineJob({ code: 'exports.nightly', schedule: every('1s'), expectSuccessWithin: '3s', run: () => {} });
    // The owner's periodic check is an hour away: only its runs can tell the store the window.
    const { daemons, store } = await startDaemons(1, [job], { overdueIntervalMs: 3_600_000 });
    await advance(2_000);
    await stopAll(daemons);
    const [state] = await store.getStates([{ code: 'exports.nightly', key: '' }]);
    if (!state?.lastSucceededAt) throw new Error(`the job never succeeded: ${JSON.stringify(state)}`);
    expect(state.expectSuccessWithinMs).toBe(3_000);

    // Another runner, without the job, checks with the config's fallback hook once the window ran out.
    const alerts: OverdueContext[] = [];
    const check = (at: number) =>
      checkOverdue({
        store,
        now: new Date(at),
        jobs: [defineJob({ code: 'housekeeping', schedule: every('1h'), run: () => {} })],
        fallback: (ctx) => void alerts.push(ctx),
        logger: silentLogger,
      });
    const lastSucceeded = state.lastSucceededAt.getTime();
    await check(lastSucceeded + 2_999);
    expect(alerts).toHaveLength(0);
    await check(lastSucceeded + 3_000);
    await check(lastSucceeded + 10_000);
    expect(alerts.map((a) => [a.code, a.key, a.expectSuccessWithinMs])).toEqual([['exports.nightly', '', 3_000]]);
    expect(clock.now().getTime()).toBeGreaterThan(lastSucceeded);
  });
});
