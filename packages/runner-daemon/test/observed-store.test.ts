import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMemoryStore, InvalidArgumentError, StoreUnavailableError } from '@tickwork/core';
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

  it('a refusal by a store built on a second installed copy of core is an answer too (read by its exit code, not its class)', async () => {
    // A second copy of core's build, as a host gets when the store package pins another copy.
    const dir = await mkdtemp(join(tmpdir(), 'tickwork-core-copy-'));
    try {
      await cp(dirname(fileURLToPath(import.meta.resolve('@tickwork/core'))), join(dir, 'dist'), {
        recursive: true,
        filter: (from) => !from.endsWith('.map'),
      });
      await writeFile(join(dir, 'package.json'), '{"type":"module"}');
      const copy = (await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)) as typeof import('@tickwork/core');
      const metrics = createDaemonMetrics('r');
      const events: string[] = [];
      const store = observeStore(copy.createMemoryStore(), metrics, {
        succeeded: () => events.push('ok'),
        failed: () => events.push('failed'),
      });
      const refused = await store.getRun(42 as unknown as string).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(copy.InvalidArgumentError);
      expect(refused).not.toBeInstanceOf(InvalidArgumentError);
      expect(events).toEqual(['ok']);
      expect((await metrics.storeErrors.get()).values).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
