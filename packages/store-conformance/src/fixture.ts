import { messagePrefix, type Store } from '@tickwork/core';
import { afterEach, beforeEach } from 'vitest';

/** One isolated backend (schema, key prefix, file); `open()` may be called several times for separate instances on it. */
export interface StoreFixture {
  /** Opens a new store instance (its own connections) on this fixture's backend. */
  open(): Promise<Store>;
  /** Drops the backend's data (schema, keys, file); called after every instance is closed. */
  cleanup(): Promise<void>;
}

/** Creates one fresh, isolated backend per call; the suite calls it once per test. */
export type StoreFixtureFactory = () => Promise<StoreFixture>;

/** Tuning of {@link describeStoreConformance}. */
export interface ConformanceOptions {
  /** How many separate store instances race in the concurrency tests (default 16, at least 2). */
  raceInstances?: number;
}

/** What every conformance test works with: a fresh fixture and the instances opened on it. */
export interface StoreHarness {
  /** The first instance, opened before each test. */
  readonly store: Store;
  /** Separate instances racing in concurrency tests. */
  readonly raceInstances: number;
  /** Opens another instance on the same backend; the harness closes it after the test. */
  open(): Promise<Store>;
  /** Opens `count` more instances. */
  openMany(count: number): Promise<Store[]>;
  /** Closes one instance now (it is not closed again after the test). */
  close(store: Store): Promise<void>;
}

/** Registers the per-test fixture lifecycle in the enclosing `describe` and returns its harness. */
export function useStoreHarness(makeFixture: StoreFixtureFactory, options: ConformanceOptions): StoreHarness {
  const raceInstances = options.raceInstances ?? 16;
  if (!Number.isInteger(raceInstances) || raceInstances < 2) {
    throw new TypeError(`${messagePrefix('store-conformance')} options.raceInstances must be an integer ≥ 2, got ${String(raceInstances)}`);
  }
  let fixture: StoreFixture | null = null;
  let first: Store | null = null;
  let opened: Store[] = [];

  const open = async (): Promise<Store> => {
    if (!fixture) throw new Error(`${messagePrefix('store-conformance')} open() called outside a test`);
    const store = await fixture.open();
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    fixture = await makeFixture();
    first = await open();
  });

  afterEach(async () => {
    const closing = opened;
    opened = [];
    first = null;
    const current = fixture;
    fixture = null;
    // Close everything before cleanup even if one close fails, so no connection outlives its schema.
    const results = await Promise.allSettled(closing.map((store) => store.close()));
    await current?.cleanup();
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  });

  return {
    get store(): Store {
      if (!first) throw new Error(`${messagePrefix('store-conformance')} the store is only available inside a test`);
      return first;
    },
    raceInstances,
    open,
    async openMany(count) {
      const stores: Store[] = [];
      for (let i = 0; i < count; i += 1) stores.push(await open());
      return stores;
    },
    async close(store) {
      opened = opened.filter((candidate) => candidate !== store);
      if (store === first) first = null;
      await store.close();
    },
  };
}
