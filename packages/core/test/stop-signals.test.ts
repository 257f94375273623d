// executeRun's `signal`, `abandon` and `stopRecording` may be one object shared by every run of a
// runner (a StopSignal keeping its listeners in a Set, as the daemon's is): each run must leave no
// listener behind, and aborting the shared object must reach every run that listens.
import { describe, expect, it } from 'vitest';
import { createFakeClock, createMemoryStore, defineJob, silentLogger, type Store } from '../src/index.js';
import { executeRun, type StopSignal } from '../src/entry/runner.js';
import { toJob } from '../src/job.js';

/** A StopSignal shared by runs, counting its listeners. */
function sharedStop(): StopSignal & { abort(): void; listening(): number } {
  const listeners = new Set<() => void>();
  let aborted = false;
  return {
    get aborted() {
      return aborted;
    },
    addEventListener: (_type, listener) => {
      if (!aborted) listeners.add(listener);
    },
    removeEventListener: (_type, listener) => {
      listeners.delete(listener);
    },
    abort() {
      aborted = true;
      const all = [...listeners];
      listeners.clear();
      for (const listener of all) listener();
    },
    listening: () => listeners.size,
  };
}

async function claimed(store: Store, code: string, now: Date) {
  await store.ensureStates([{ code, key: '' }], now);
  const [outcome] = await store.claimSlots(
    [{ code, key: '', slotAt: now, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 30_000 }],
    { runnerId: 'r1', now },
  );
  if (outcome?.status !== 'claimed') throw new Error(`expected a claim, got ${outcome?.status}`);
  return outcome;
}

describe('executeRun with stop signals shared by every run', () => {
  it('leaves no listener on shared signal, abandon and stopRecording once each run returned', async () => {
    const clock = createFakeClock('2026-03-02T12:00:00Z');
    const store = createMemoryStore();
    const [signal, abandon, stopRecording] = [sharedStop(), sharedStop(), sharedStop()];
    const results = await Promise.all(
      ['a', 'b', 'c'].map(async (code) => {
        const job = toJob(defineJob({ code, schedule: null, run: async () => undefined }));
        const { run, lease } = await claimed(store, code, clock.now());
        return executeRun({ job, run, lease, store, clock, logger: silentLogger, signal, abandon, stopRecording });
      }),
    );
    expect(results.map((r) => r.run.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect([signal.listening(), abandon.listening(), stopRecording.listening()]).toEqual([0, 0, 0]);
  });

  it('aborting the shared signal aborts every running handler, each recorded interrupted', async () => {
    const clock = createFakeClock('2026-03-02T12:00:00Z');
    const store = createMemoryStore();
    const signal = sharedStop();
    const started: string[] = [];
    const runs = ['a', 'b'].map(async (code) => {
      const job = toJob(
        defineJob({
          code,
          schedule: null,
          run: (ctx) =>
            new Promise<void>((resolve) => {
              started.push(code);
              ctx.signal.addEventListener('abort', () => resolve(), { once: true });
            }),
        }),
      );
      const { run, lease } = await claimed(store, code, clock.now());
      return executeRun({ job, run, lease, store, clock, logger: silentLogger, signal });
    });
    while (started.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(signal.listening()).toBe(2);
    signal.abort();
    const results = await Promise.all(runs);
    expect(results.map((r) => [r.run.status, r.run.error])).toEqual([
      ['interrupted', 'interrupted by runner shutdown'],
      ['interrupted', 'interrupted by runner shutdown'],
    ]);
  });
});
