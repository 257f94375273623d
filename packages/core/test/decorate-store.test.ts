import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StoreUnavailableError } from '../src/errors.js';
import { createMemoryStore } from '../src/memory-store.js';
import type { Store } from '../src/index.js';
import { decorateStore, STORE_OPERATIONS, type StoreAnswer, type StoreOperation } from '../src/entry/store.js';

const t0 = new Date('2030-01-07T00:00:00.000Z');
const ref = { code: 'report', key: '' };

/** A store's own enumerable members as a plain object, to take methods away from. */
const withoutOperations = (store: Store, ...left: StoreOperation[]): Store => {
  const copy: Record<string, unknown> = { name: store.name, capabilities: store.capabilities, close: () => store.close() };
  for (const operation of Object.keys(STORE_OPERATIONS) as StoreOperation[]) {
    const method = store[operation] as ((...args: unknown[]) => unknown) | undefined;
    if (method && !left.includes(operation)) copy[operation] = method.bind(store);
  }
  return copy as unknown as Store;
};

describe('decorateStore', () => {
  it('lists every operation of the contract once, each required unless the contract makes it optional', () => {
    const operations = Object.keys(STORE_OPERATIONS);
    expect(new Set(operations).size).toBe(operations.length);
    expect(operations).not.toContain('close');
    expect(operations).not.toContain('name');
    expect(
      Object.entries(STORE_OPERATIONS)
        .filter(([, kind]) => kind === 'optional')
        .map(([name]) => name)
        .sort(),
    ).toEqual(['claimMaintenance', 'heartbeat', 'leasePartitions', 'listRunners', 'releasePartitions', 'subscribe']);
    // Compile-time: a list missing an operation, naming one the contract lacks, or calling an optional one required fails typechecking.
    // @ts-expect-error — ping is missing
    const missing: typeof STORE_OPERATIONS = { ...STORE_OPERATIONS, ping: undefined };
    // @ts-expect-error — not an operation of the contract
    const extra: typeof STORE_OPERATIONS = { ...STORE_OPERATIONS, flush: 'required' };
    // @ts-expect-error — heartbeat is optional in the contract
    const wrongKind: typeof STORE_OPERATIONS = { ...STORE_OPERATIONS, heartbeat: 'required' };
    expect([missing, extra, wrongKind]).toHaveLength(3);
  });

  it('forwards every operation, name, capabilities and close to the inner store', async () => {
    const inner = createMemoryStore({ changeSubscription: true });
    const store = decorateStore(inner, {});
    expect(store.name).toBe(inner.name);
    expect(store.capabilities).toEqual(inner.capabilities);
    for (const operation of Object.keys(STORE_OPERATIONS) as StoreOperation[]) {
      expect(typeof store[operation], operation).toBe(typeof inner[operation]);
    }
    await store.setPaused(ref, true, { now: t0 });
    expect((await inner.getStates()).map((s) => s.paused)).toEqual([true]);
    await store.close();
    await expect(inner.getStates()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('refuses, once and naming it, an inner store that lacks a required operation; an optional one it lacks stays absent', () => {
    const inner = createMemoryStore();
    expect(() => decorateStore(withoutOperations(inner, 'pruneAudit'), {})).toThrow(InvalidArgumentError);
    expect(() => decorateStore(withoutOperations(inner, 'pruneAudit'), {})).toThrow(/store "memory" has no pruneAudit\(\)/);
    const decorated = decorateStore(withoutOperations(inner, 'heartbeat', 'listRunners'), { after: () => {} });
    expect(decorated.heartbeat).toBeUndefined();
    expect(decorated.listRunners).toBeUndefined();
    expect(typeof decorated.claimMaintenance).toBe('function');
  });

  it('runs before, then the call, then after; what throws anywhere goes through the one error hook', async () => {
    const events: string[] = [];
    const inner = createMemoryStore();
    let refuse = false;
    const store = decorateStore(inner, {
      before(operation, args) {
        events.push(`before ${operation} ${args.length}`);
        if (refuse) throw new StoreUnavailableError('not ready');
      },
      after(answer: StoreAnswer) {
        if (answer.operation === 'setPaused') events.push(`after setPaused paused=${answer.result.paused}`);
        else events.push(`after ${answer.operation}`);
      },
      error(operation, error) {
        events.push(`error ${operation} ${(error as Error).name}`);
        return new Error(`mapped: ${(error as Error).message}`);
      },
    });
    await store.setPaused(ref, true, { now: t0 });
    await expect(store.getRun(42 as unknown as string)).rejects.toThrow(/^mapped: .*getRun/);
    refuse = true;
    await expect(store.ping()).rejects.toThrow('mapped: [tickwork] not ready');
    expect(events).toEqual([
      'before setPaused 3',
      'after setPaused paused=true',
      'before getRun 1',
      'error getRun InvalidArgumentError',
      'before ping 0',
      'error ping StoreUnavailableError',
    ]);
  });

  it('replaces the operations given in `replace`, with the hooks around them, and leaves the rest to the inner store', async () => {
    const inner = createMemoryStore();
    const seen: string[] = [];
    const store = decorateStore(inner, {
      replace: { schedulesRevision: async () => 'replaced' },
      after: (answer) => seen.push(answer.operation),
    });
    expect(await store.schedulesRevision()).toBe('replaced');
    expect(await store.schedulesRevision()).not.toBe(await inner.schedulesRevision());
    await store.getStates();
    expect(seen).toEqual(['schedulesRevision', 'schedulesRevision', 'getStates']);
  });
});
