import { createMemoryStore, type Store } from '@tickwork/core';
import type { RunCompletion } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { batchRunWrites } from '../src/batching-store.js';

const now = new Date('2031-01-01T00:00:00Z');

describe('batched run writes', () => {
  it('a completion the store refuses fails only its own caller; the others in its batch are recorded', async () => {
    const memory = createMemoryStore();
    // A store that refuses any batch holding a "poison" item (as a store refuses text it cannot hold).
    const picky = new Proxy(memory, {
      get(target, property) {
        if (property === 'completeRuns') {
          return (items: readonly RunCompletion[]) =>
            items.some((i) => i.message === 'poison') ? Promise.reject(new Error('refused')) : target.completeRuns(items);
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const store = batchRunWrites(picky);
    const claims = ['a', 'b', 'c'].map((code) => ({
      code,
      key: '',
      slotAt: now,
      attempt: 1,
      trigger: 'schedule' as const,
      overlap: 'skip' as const,
      leaseMs: 60_000,
    }));
    const outcomes = await store.claimSlots(claims, { runnerId: 'r', now });
    const leases = outcomes.map((o) => (o.status === 'claimed' ? o.lease : null));
    const settled = await Promise.allSettled(
      leases.map((lease, i) =>
        store.completeRuns([{ lease: lease!, status: 'succeeded', finishedAt: now, message: i === 1 ? 'poison' : 'fine' }]),
      ),
    );
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const { runs } = await memory.queryRuns({});
    expect(runs.map((r) => [r.code, r.status]).sort()).toEqual([
      ['a', 'succeeded'],
      ['b', 'running'],
      ['c', 'succeeded'],
    ]);
  });
});
