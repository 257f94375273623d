import {
  createMemoryBackend,
  createMemoryStore,
  silentLogger,
  StoreUnavailableError,
  type Clock,
  type JobInput,
  type Store,
} from '@tickwork/core';
import { vi } from 'vitest';
import { createDaemon, type DaemonHandle, type DaemonOptions } from '../src/index.js';

/** Fake time for in-process tests: vitest's fake timers drive both the daemon's timers and its clock. */
export const START = new Date('2026-03-02T10:00:00.000Z');

/** Installs fake timers at START (or `at`) and returns a clock reading the faked Date. */
export function fakeTime(at: Date = START): Clock {
  vi.useFakeTimers({
    now: at,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'],
  });
  return { now: () => new Date() };
}

/** Moves fake time forward, running every timer and promise that falls due on the way. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** Starts `count` daemons sharing one memory backend, each with its own store instance (like separate processes). */
export async function startDaemons(
  count: number,
  jobs: readonly JobInput[],
  options: DaemonOptions & { changeSubscription?: boolean; wrapStore?: (store: Store, index: number) => Store } = {},
): Promise<{ daemons: DaemonHandle[]; store: Store; stores: Store[] }> {
  const backend = createMemoryBackend();
  const { changeSubscription = true, wrapStore = (store) => store, ...daemonOptions } = options;
  const stores = Array.from({ length: count }, (_, i) => wrapStore(createMemoryStore({ backend, changeSubscription }), i));
  const daemons = stores.map((store, i) =>
    createDaemon(
      { jobs, store },
      { clock: { now: () => new Date() }, logger: silentLogger, runnerId: `d${i + 1}`, pollIntervalMs: 200, ...daemonOptions },
    ),
  );
  await advance(0);
  await Promise.all(daemons.map((d) => d.ready));
  return { daemons, store: createMemoryStore({ backend, changeSubscription }), stores };
}

/** Stops daemons while fake time keeps moving (their drain may wait on timers). */
export async function stopAll(daemons: DaemonHandle[]): Promise<void> {
  const stopped = Promise.all(daemons.map((d) => d.stop()));
  for (let i = 0; i < 100; i++) {
    let settled = false;
    void stopped.then(() => (settled = true));
    await advance(100);
    if (settled) break;
  }
  await stopped;
}

/** A memory store whose calls fail while `down` is set, like a database that went away. */
export function flaky(store: Store): Store & { down: boolean } {
  const wrapper = { down: false } as Store & { down: boolean };
  for (const key of Object.keys(store) as Array<keyof Store>) {
    const value = store[key];
    Object.defineProperty(wrapper, key, {
      enumerable: true,
      get: () =>
        typeof value === 'function'
          ? (...args: unknown[]) => {
              if (wrapper.down && key !== 'close')
                return Promise.reject(new StoreUnavailableError('[tickwork] [memory-store] connection refused'));
              return (value as (...a: unknown[]) => unknown).apply(store, args);
            }
          : value,
    });
  }
  return wrapper;
}
