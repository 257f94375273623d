/**
 * A schedule held (here: its stored override stops compiling) while its pre-claim is in flight,
 * the pre-claim answered `busy` (another runner's run holds the lease). The daemon must take it out
 * of the queue when the claim returns, as it does for every other outcome — not wait for the
 * slot's instant and plan it again (which would claim its waiting slot or a due retry while held).
 * The pre-claim is held at a gate in the store, so claim → hold → answer never depends on timing.
 */
import { createMemoryStore, defineJob, every, silentLogger, type Logger, type Store } from '@tickwork/core';
import type { ClaimOutcome } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { createDaemon } from '../src/index.js';
import { waitFor } from './cluster.js';

describe('a schedule held while its claim is in flight', () => {
  it('is out of the queue once a busy answer returns, not waiting for the slot instant', async () => {
    const job = defineJob({ code: 'held-in-claim', schedule: every('1s'), run: () => undefined });
    const memory = createMemoryStore({ changeSubscription: true });
    // Another runner's run of the schedule holds a live lease all along: every pre-claim answers `busy`.
    const [other] = await memory.claimSlots(
      [{ code: job.code, key: '', slotAt: new Date(Date.now() - 60_000), attempt: 1, trigger: 'retry', overlap: 'skip', leaseMs: 600_000 }],
      { runnerId: 'other', now: new Date() },
    );
    expect(other?.status).toBe('claimed');

    let armed = false;
    let gated: (() => void) | null = null;
    let answered: ClaimOutcome[] | null = null;
    const store = new Proxy(memory, {
      get(target, property) {
        if (property !== 'claimSlots') return Reflect.get(target, property) as unknown;
        return async (...args: Parameters<Store['claimSlots']>) => {
          const [claims, options] = args;
          const preClaim = claims.some((c) => c.code === job.code && c.slotAt.getTime() > options.now.getTime());
          if (!armed || !preClaim) return target.claimSlots(...args);
          armed = false;
          await new Promise<void>((resolve) => {
            gated = resolve;
          });
          // Judged at the time the daemon sent it: still a pre-claim.
          const outcomes = await target.claimSlots(...args);
          answered = outcomes;
          return outcomes;
        };
      },
    }) as Store;

    const invalid: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      error: (_obj, msg) => void (msg?.includes('is invalid') && invalid.push(msg)),
      child: () => logger,
    };
    const daemon = createDaemon({ jobs: [job], store }, { logger, pollIntervalMs: 200 });
    try {
      await daemon.ready;
      armed = true;
      const open = await waitFor(() => gated ?? undefined, 60_000, 'a pre-claim at the gate');
      await memory.setScheduleOverride({ code: job.code, key: '' }, { kind: 'cron', expression: '61 * * * *' }, new Date());
      await waitFor(() => (invalid.length > 0 ? true : undefined), 60_000, 'the daemon to hold the schedule invalid');
      open();
      const outcomes = await waitFor(() => answered ?? undefined, 60_000, 'the pre-claim answered');
      expect(outcomes.map((o) => o.status)).toEqual(['busy']);
      // The daemon handles the answer in the microtasks after it; a macrotask later it is done.
      await new Promise((resolve) => setImmediate(resolve));
      expect(daemon.loadedSchedule({ code: job.code, key: '' })?.nextDueAt).toBeNull();
    } finally {
      await daemon.stop();
    }
  });
});
