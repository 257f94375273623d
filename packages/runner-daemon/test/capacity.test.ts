import { createMemoryBackend, createMemoryStore, defineJob, every, silentLogger, type RunContext, type Store } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon } from '../src/index.js';
import { advance, fakeTime, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('capacity', () => {
  it('a run-now request filed while a scheduled claim is in flight does not push past maxConcurrentRuns', async () => {
    fakeTime();
    let active = 0;
    let peak = 0;
    const ran: string[] = [];
    const busy = (ctx: RunContext) =>
      new Promise<void>((resolve) => {
        active++;
        ran.push(ctx.code);
        peak = Math.max(peak, active);
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          active--;
          resolve();
        };
        const timer = setTimeout(finish, 3_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          finish();
        }, { once: true });
      });
    const jobs = [
      defineJob({ code: 'tick', schedule: every('10s'), run: busy }),
      defineJob({ code: 'manual', schedule: '0 3 * * *', run: busy }),
    ];
    const backend = createMemoryBackend();
    const memory = createMemoryStore({ backend });
    // Claims take a while to answer: the window in which the run-now path used to ignore the scheduled claim.
    const slow = new Proxy(memory, {
      get(target, property) {
        if (property === 'claimSlots') {
          return (...args: Parameters<Store['claimSlots']>) => new Promise((resolve) => setTimeout(resolve, 300)).then(() => target.claimSlots(...args));
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const daemon = createDaemon({ jobs, store: slow }, { clock: { now: () => new Date() }, logger: silentLogger, maxConcurrentRuns: 1, pollIntervalMs: 100, preClaimMs: 500 });
    await advance(0);
    await daemon.ready;
    await advance(9_600); // the 10 s slot's claim is now in flight
    await createMemoryStore({ backend }).requestRun({ code: 'manual', key: '' }, { now: new Date() });
    await advance(2_000);
    expect(peak).toBe(1);
    await advance(3_000); // the scheduled run ends; the request waited for capacity and runs now
    await stopAll([daemon]);
    expect(peak).toBe(1);
    expect(ran).toContain('manual');
  });
});
