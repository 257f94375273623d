import { createMemoryStore, StoreUnavailableError } from '@tickwork/core';
import { decorateStore, STORE_OPERATIONS, type StoreOperation } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { createDaemonMetrics } from '../src/metrics.js';
import { observeStore } from '../src/observed-store.js';

describe('observed store', () => {
  it('observes every operation of the contract: each failed call counts for its operation and reaches the health', async () => {
    // A store that cannot be reached: every call throws before it reaches the memory store.
    const down = decorateStore(createMemoryStore({ changeSubscription: true }), {
      before: () => {
        throw new StoreUnavailableError('down');
      },
    });
    const metrics = createDaemonMetrics('r');
    const failed: string[] = [];
    const store = observeStore(down, metrics, { succeeded: () => {}, failed: (operation) => failed.push(operation) });
    const observed = (Object.keys(STORE_OPERATIONS) as StoreOperation[]).filter((operation) => operation !== 'subscribe');
    for (const operation of observed) {
      const call = store[operation] as (...args: unknown[]) => Promise<unknown>;
      await expect(call.call(store), operation).rejects.toBeInstanceOf(StoreUnavailableError);
    }
    expect(failed).toEqual(observed);
    const counted = (await metrics.storeErrors.get()).values.map((v) => [v.labels.operation, v.value]);
    expect(counted.sort()).toEqual(observed.map((operation) => [operation, 1]).sort());
  });

  it('a refused argument is an answer, not an outage', async () => {
    const metrics = createDaemonMetrics('r');
    const events: string[] = [];
    const store = observeStore(createMemoryStore(), metrics, { succeeded: () => events.push('ok'), failed: () => events.push('failed') });
    await expect(store.getRun(42 as unknown as string)).rejects.toThrow(/getRun/);
    await store.getStates();
    expect(events).toEqual(['ok', 'ok']);
    expect((await metrics.storeErrors.get()).values).toEqual([]);
  });
});
