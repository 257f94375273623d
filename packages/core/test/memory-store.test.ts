import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StoreUnavailableError } from '../src/errors.js';
import { createMemoryBackend, createMemoryStore, type MemoryBackend } from '../src/memory-store.js';
import type { ScheduleSpec } from '../src/index.js';
import type { StoreChange } from '../src/entry/store.js';

const t0 = new Date('2030-01-07T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const ref = { code: 'report', key: '' };
const claim = (slotAt: Date) => ({ ...ref, slotAt, attempt: 1, trigger: 'schedule' as const, overlap: 'skip' as const, leaseMs: 60_000 });

describe('memory store', () => {
  it('stores on different backends share nothing; stores on one backend share everything', async () => {
    const backend = createMemoryBackend();
    const a = createMemoryStore({ backend });
    const b = createMemoryStore({ backend });
    const elsewhere = createMemoryStore();
    await a.setPaused(ref, true, { now: t0 });
    await a.requestRun(ref, { now: t0 });
    expect((await b.getStates()).map((s) => s.paused)).toEqual([true]);
    expect(await b.pendingRunRequests()).toHaveLength(1);
    expect(await elsewhere.getStates()).toEqual([]);
    expect(await elsewhere.pendingRunRequests()).toEqual([]);
    const [fromOther] = await elsewhere.claimSlots([claim(t0)], { runnerId: 'x', now: t0 });
    expect(fromOther?.status).toBe('claimed');
    const [fromShared] = await b.claimSlots([claim(t0)], { runnerId: 'y', now: t0 });
    expect(fromShared?.status).toBe('paused');
  });

  it('changes reach subscribers of the same backend only, after the call returned', async () => {
    const backend = createMemoryBackend();
    const writer = createMemoryStore({ backend });
    const sameBackend: StoreChange[] = [];
    const otherBackend: StoreChange[] = [];
    await createMemoryStore({ backend }).subscribe?.((change) => sameBackend.push(change));
    await createMemoryStore().subscribe?.((change) => otherBackend.push(change));
    await writer.setPaused(ref, true, { now: t0 });
    // Delivery is a microtask: not inside setPaused, but before the next macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sameBackend).toEqual([{ type: 'state', code: 'report', key: '' }]);
    expect(otherBackend).toEqual([]);
  });

  it('values handed in and out are copies: mutating them changes nothing stored', async () => {
    const store = createMemoryStore();
    const spec: ScheduleSpec = { kind: 'daily', times: ['06:00'], weekdays: [1] };
    const returned = await store.setScheduleOverride(ref, spec, t0);
    spec.times.push('07:00');
    returned.paused = true;
    returned.createdAt.setTime(0);
    (returned.scheduleOverride as { times: string[] }).times.push('08:00');
    const [state] = await store.getStates([ref]);
    expect(state?.scheduleOverride).toEqual({ kind: 'daily', times: ['06:00'], weekdays: [1] });
    expect(state?.paused).toBe(false);
    expect(state?.createdAt.getTime()).toBe(t0.getTime());

    const [outcome] = await store.claimSlots([claim(t0)], { runnerId: 'r', now: t0 });
    if (outcome?.status !== 'claimed') throw new Error(`expected claimed, got ${outcome?.status}`);
    outcome.run.status = 'succeeded';
    outcome.run.slotAt.setTime(0);
    outcome.lease.expiresAt.setTime(0);
    const stored = await store.getRun(outcome.run.id);
    expect(stored?.status).toBe('running');
    expect(stored?.slotAt.getTime()).toBe(t0.getTime());
    expect(stored?.leaseExpiresAt?.getTime()).toBe(at(60_000).getTime());
    const page = await store.queryRuns();
    page.runs[0]!.message = 'tampered';
    expect((await store.getRun(outcome.run.id))?.message).toBeNull();
  });

  it('run ids are increasing numeric strings and cursors are opaque strings', async () => {
    const store = createMemoryStore();
    const outcomes = await store.claimSlots(
      [0, 1, 2].map((i) => ({ ...claim(at(i * 1_000)), overlap: 'allowAll' as const })),
      { runnerId: 'r', now: t0 },
    );
    const ids = outcomes.map((o) => (o.status === 'claimed' ? Number(o.run.id) : NaN));
    expect(ids.every(Number.isInteger)).toBe(true);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(3);
    const page = await store.queryRuns({ limit: 2 });
    expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('a closed store refuses calls and stops its subscriptions; the backend keeps the data', async () => {
    const backend = createMemoryBackend();
    const store = createMemoryStore({ backend });
    const received: StoreChange[] = [];
    await store.subscribe?.((change) => received.push(change));
    await store.close();
    await expect(store.getStates()).rejects.toBeInstanceOf(StoreUnavailableError);
    await createMemoryStore({ backend }).setPaused(ref, true, { now: t0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([]);
    expect(await createMemoryStore({ backend }).getStates()).toHaveLength(1);
  });

  it('rejects a backend not made by createMemoryBackend, and messages name the method and field', async () => {
    const fake = { kind: 'memory-backend' } as MemoryBackend;
    expect(() => createMemoryStore({ backend: fake })).toThrow(InvalidArgumentError);
    const store = createMemoryStore();
    await expect(store.claimSlots([{ ...claim(t0), leaseMs: -5 }], { runnerId: 'r', now: t0 })).rejects.toThrow(
      /^\[tickwork\] \[memory-store\] claimSlots: claims\[0\]\.leaseMs \(job "report"\) must be an integer from 1 to /,
    );
    await expect(store.queryRuns({ limit: 1001 })).rejects.toThrow(/queryRuns: query\.limit must be an integer from 1 to 1000/);
  });

  it('without changeSubscription it has no subscribe method', () => {
    const store = createMemoryStore({ changeSubscription: false });
    expect(store.capabilities.changeSubscription).toBe(false);
    expect('subscribe' in store).toBe(false);
  });
});
