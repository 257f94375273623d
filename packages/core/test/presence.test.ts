import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  createMemoryBackend,
  createMemoryStore,
  defineJob,
  every,
  runDue,
  StoreUnavailableError,
  type Store,
} from '../src/index.js';
import { startRunnerPresence } from '../src/entry/runner.js';

const T0 = '2026-03-02T12:00:00.000Z';

describe('runner presence', () => {
  it("beats at once with the runner's fields, and reaps runners only after two TTLs of healthy beats", async () => {
    const clock = createFakeClock(T0);
    const store = createMemoryStore();
    const presence = startRunnerPresence({ store, runnerId: 'r1', clock, ttlMs: 3_000, clockOffsetMs: () => 7 });
    if (!presence) throw new Error('the memory store has runner presence');
    await presence.beat();
    const [record] = await store.listRunners!({ now: clock.now() });
    expect(record).toMatchObject({ runnerId: 'r1', clockOffsetMs: 7, alive: true, connected: true });
    expect(record?.expiresAt.toISOString()).toBe('2026-03-02T12:00:03.000Z');
    expect(presence.reapsRunners).toBe(false);
    for (let i = 0; i < 6; i += 1) {
      clock.advance(1_000);
      await presence.beat();
    }
    expect(presence.reapsRunners).toBe(true);
    // A gap longer than the TTL (this runner stalled, or the store was away) starts the count again.
    clock.advance(4_000);
    expect(presence.reapsRunners).toBe(false);
    await presence.beat();
    expect(presence.reapsRunners).toBe(false);
    presence.stop();
  });

  it('a failing heartbeat stops reaping of runners until two healthy TTLs again', async () => {
    const clock = createFakeClock(T0);
    const inner = createMemoryStore();
    let down = false;
    const store: Store = new Proxy(inner, {
      get(target, property) {
        if (property === 'heartbeat') {
          return async (...args: Parameters<NonNullable<Store['heartbeat']>>) => {
            if (down) throw new StoreUnavailableError('[tickwork] test: store down');
            return target.heartbeat!(...args);
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const presence = startRunnerPresence({ store, runnerId: 'r1', clock, ttlMs: 1_000 });
    if (!presence) throw new Error('the memory store has runner presence');
    for (let i = 0; i < 4; i += 1) {
      await presence.beat();
      clock.advance(500);
    }
    expect(presence.reapsRunners).toBe(true);
    down = true;
    await presence.beat();
    expect(presence.reapsRunners).toBe(false);
    down = false;
    await presence.beat();
    expect(presence.reapsRunners).toBe(false);
    presence.stop();
  });

  it('stop() resolves only once the heartbeat in flight has been answered, so the store can close after it', async () => {
    const clock = createFakeClock(T0);
    const inner = createMemoryStore();
    let answer!: () => void;
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const events: string[] = [];
    const store: Store = new Proxy(inner, {
      get(target, property) {
        if (property === 'heartbeat') {
          return async (...args: Parameters<NonNullable<Store['heartbeat']>>) => {
            await held;
            const record = await target.heartbeat!(...args);
            events.push('beat answered');
            return record;
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const presence = startRunnerPresence({ store, runnerId: 'r1', clock, ttlMs: 3_000 });
    if (!presence) throw new Error('the memory store has runner presence');
    const stopped = presence.stop().then(() => events.push('stopped'));
    await Promise.resolve();
    expect(events).toEqual([]);
    answer();
    await stopped;
    expect(events).toEqual(['beat answered', 'stopped']);
  });

  it('a store without runner presence gets no heartbeat loop', () => {
    const inner = createMemoryStore();
    const store: Store = { ...inner, capabilities: { changeSubscription: true }, heartbeat: undefined } as unknown as Store;
    expect(startRunnerPresence({ store, runnerId: 'r', clock: createFakeClock(T0) })).toBeNull();
  });

  it("a tick with reapRunners interrupts a dead runner's live-leased run once, alerts once, and retries the slot", async () => {
    const backend = createMemoryBackend();
    const clock = createFakeClock(T0);
    const failures: string[] = [];
    const jobs = [
      defineJob({
        code: 'crashy',
        schedule: every('1h'),
        leaseTtl: '30s',
        run: () => undefined,
        onFailure: (f) => void failures.push(f.run.status),
      }),
    ];
    const dying = createMemoryStore({ backend });
    await dying.heartbeat!({ runnerId: 'dying', now: clock.now(), ttlMs: 3_000, startedAt: clock.now(), clockOffsetMs: null });
    await dying.ensureStates([{ code: 'crashy', key: '' }], clock.now());
    const [claim] = await dying.claimSlots(
      [{ code: 'crashy', key: '', slotAt: new Date(T0), attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 30_000 }],
      { runnerId: 'dying', now: clock.now() },
    );
    expect(claim?.status).toBe('claimed');
    await dying.close(); // the process died: its connection is gone
    const store = createMemoryStore({ backend });
    clock.advance(4_000); // heartbeat TTL passed, lease (30 s) still live
    const plain = await runDue({ jobs, store, clock, runnerId: 'survivor' });
    expect(plain.results[0]?.outcome).toBe('not-due');
    const tick = await runDue({ jobs, store, clock, runnerId: 'survivor', reapRunners: true });
    expect(tick.results[0]).toMatchObject({ outcome: 'succeeded', attempt: 2 });
    const { runs } = await store.queryRuns({ code: 'crashy' });
    expect(runs.reverse().map((r) => [r.attempt, r.status, r.runnerId])).toEqual([
      [1, 'interrupted', 'dying'],
      [2, 'succeeded', 'survivor'],
    ]);
    expect(runs[0]?.message).toMatch(/runner "dying" is dead/);
    expect(failures).toEqual(['interrupted']);
    const [state] = await store.getStates([{ code: 'crashy', key: '' }]);
    expect(state?.consecutiveFailures).toBe(0);
    expect((await runDue({ jobs, store, clock, runnerId: 'survivor', reapRunners: true })).results[0]?.outcome).toBe('not-due');
    expect(failures).toEqual(['interrupted']);
  });
});
