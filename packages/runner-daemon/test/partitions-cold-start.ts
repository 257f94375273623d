/**
 * The cold start of partitioned daemons (issue #23) on a real store, in-process daemons, exact
 * partition counts. Each daemon's store answers its `leasePartitions` calls as usual but records
 * them; the first ones (and the presence reads before them) are held until the test opens a gate,
 * so what each first lease saw in the store's runner presence is decided by the test, not by
 * start-up timing.
 */
import { createScheduler, defineJob, silentLogger, type Store } from '@tickwork/core';
import { decorateStore, PARTITION_COUNT, partitionOf, type PartitionLeaseRequest } from '@tickwork/core/store';
import { expect } from 'vitest';
import { createDaemon, type DaemonHandle } from '../src/index.js';
import { sleep, type StoreKit } from './cluster.js';

const CODE = 'tenant.report';
// Long enough that a loaded 2-core machine never lets a lease lapse between renewals (every third of it).
const TTL = 6_000;
const keys = Array.from({ length: 1_000 }, (_, i) => `tenant-${i}`);

interface Lease {
  runner: string;
  limit: number | undefined;
  held: number;
}

/**
 * Daemons on `kit` whose lease calls wait for `gate` and are recorded in `leases`; `listed` is awaited after each of
 * their presence reads before their first lease, before the daemon gets its answer (its index among those reads).
 */
function fleet(kit: StoreKit, gate: Promise<void>, listed: (runner: string, index: number) => Promise<void> = async () => undefined) {
  const leases: Lease[] = [];
  const reads = new Map<string, number>();
  const stores: Store[] = [];
  const job = defineJob({ code: CODE, schedule: null, run: () => undefined });
  const start = (runnerId: string): DaemonHandle => {
    const open = async (): Promise<Store> => {
      const inner = await kit.open();
      stores.push(inner);
      const lease = inner.leasePartitions?.bind(inner) as NonNullable<Store['leasePartitions']>;
      const list = inner.listRunners?.bind(inner) as NonNullable<Store['listRunners']>;
      return decorateStore(inner, {
        replace: {
          // What a first lease reads of the presence: after the gate too.
          async listRunners(options: { now: Date }) {
            await gate;
            const answer = await list(options);
            // The looks before its first lease (the daemon reads the presence for other reasons later).
            if (leases.some((l) => l.runner === runnerId)) return answer;
            const index = reads.get(runnerId) ?? 0;
            reads.set(runnerId, index + 1);
            await listed(runnerId, index);
            return answer;
          },
          async leasePartitions(request: PartitionLeaseRequest) {
            await gate;
            const answer = await lease(request);
            leases.push({ runner: runnerId, limit: request.limit, held: answer.partitions.length });
            return answer;
          },
        },
      });
    };
    return createDaemon(
      { jobs: [job], store: open },
      { logger: silentLogger, runnerId, pollIntervalMs: 200, partitions: true, partitionTtlMs: TTL },
    );
  };
  return { leases, reads, start, stores };
}

/** Waits on real servers (not testing time logic): polls `probe` until it holds. */
async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Runner ids `admin`'s presence lists alive now. */
async function aliveRunners(admin: Store): Promise<Set<string>> {
  const listed = await admin.listRunners?.({ now: new Date() });
  return new Set((listed ?? []).filter((r) => r.alive).map((r) => r.runnerId));
}

/** The partitions `daemon` holds and the runtime schedules it has loaded. */
async function heldAndLoaded(daemon: DaemonHandle): Promise<{ partitions: number; loaded: number }> {
  const health = await daemon.health();
  return { partitions: health.partitions ?? 0, loaded: health.schedules.runtime };
}

async function seeded(kit: StoreKit): Promise<Store> {
  await kit.setup();
  const admin = await kit.open();
  const job = defineJob({ code: CODE, schedule: null, run: () => undefined });
  // A slot once a year: the test counts what is loaded, not what runs.
  await createScheduler({ jobs: [job], store: admin })
    .schedules(CODE)
    .upsert(keys.map((key) => ({ key, schedule: '0 0 1 1 *' })));
  return admin;
}

/**
 * Four daemons starting together: once presence lists all four, each first lease asks for ceil(256 / 4)
 * = 64 and gets exactly 64, so no daemon ever holds (or loads) more than its share; together they hold
 * every partition and load every runtime schedule once.
 */
export async function fleetStartingTogether(kit: StoreKit): Promise<void> {
  const admin = await seeded(kit);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const { leases, start, stores } = fleet(kit, gate);
  const ids = ['c1', 'c2', 'c3', 'c4'];
  const daemons = ids.map(start);
  try {
    await until(`runners ${ids.join(', ')} to beat`, async () => {
      const alive = await aliveRunners(admin);
      return ids.every((id) => alive.has(id));
    });
    open();
    await Promise.all(daemons.map((d) => d.ready));
    const firsts = ids.map((id) => leases.find((l) => l.runner === id));
    expect(firsts).toEqual(ids.map((runner) => ({ runner, limit: PARTITION_COUNT / 4, held: PARTITION_COUNT / 4 })));
    // Renewals go on (a third of the TTL each): nothing moves, no daemon ever held more than its share.
    await until('renewals', () => ids.every((id) => leases.filter((l) => l.runner === id).length >= 4));
    expect(Math.max(...leases.map((l) => l.held))).toBe(PARTITION_COUNT / 4);
    expect(
      leases
        .filter((l) => l.runner === 'c1')
        .slice(1)
        .map((l) => l.limit),
    ).toEqual([undefined, undefined, undefined]);
    const states = await Promise.all(daemons.map(heldAndLoaded));
    expect(states.map((s) => s.partitions)).toEqual([64, 64, 64, 64]);
    expect(states.reduce((sum, s) => sum + s.loaded, 0)).toBe(keys.length);
    for (const [i, daemon] of daemons.entries()) {
      const mine = keys.filter((key) => daemon.loadedSchedule({ code: CODE, key }) !== null);
      expect(mine.length).toBe(states[i]?.loaded);
      expect(new Set(mine.map((key) => partitionOf(CODE, key))).size).toBeLessThanOrEqual(64);
    }
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await admin.close();
    await kit.teardown();
  }
}

/**
 * A lone daemon looks at the presence twice, JOIN_WAIT_MS apart, then takes every partition on its
 * first lease (no limit) and is ready with every runtime schedule loaded. A runner that beats while a
 * daemon looks is counted: here `ghost` (a store instance beating, never leasing) appears right after
 * the first look of `l2`, so l2 looks a third time, its first lease asks for 128 and gets 128; its
 * next renewal (a third of the TTL later) follows the store's fair share among members alone and
 * takes the other 128.
 */
export async function loneDaemonAndLateRunner(kit: StoreKit): Promise<void> {
  const admin = await seeded(kit);
  const ghost = await kit.open();
  const beatGhost = async () => {
    const now = new Date();
    await ghost.heartbeat?.({ runnerId: 'ghost', now, ttlMs: 600_000, startedAt: now, clockOffsetMs: null });
  };
  const { leases, reads, start, stores } = fleet(kit, Promise.resolve(), async (runner, index) => {
    if (runner === 'l2' && index === 0) await beatGhost();
  });
  const daemons: DaemonHandle[] = [];
  try {
    const lone = start('l1');
    daemons.push(lone);
    await lone.ready;
    expect(reads.get('l1')).toBe(2);
    expect(leases[0]).toEqual({ runner: 'l1', limit: undefined, held: PARTITION_COUNT });
    expect(await heldAndLoaded(lone)).toEqual({ partitions: PARTITION_COUNT, loaded: keys.length });
    await lone.stop();
    await until('l1 to be dead in the presence', async () => !(await aliveRunners(admin)).has('l1'));
    const second = start('l2');
    daemons.push(second);
    await second.ready;
    await until('l2 to hold every partition', async () => (await second.health()).partitions === PARTITION_COUNT);
    // Alone, then two with the ghost, then two again: the count settled at the third look.
    expect(reads.get('l2')).toBe(3);
    expect(leases.filter((l) => l.runner === 'l2').slice(0, 2)).toEqual([
      { runner: 'l2', limit: PARTITION_COUNT / 2, held: PARTITION_COUNT / 2 },
      { runner: 'l2', limit: undefined, held: PARTITION_COUNT },
    ]);
    await until('l2 to load every runtime schedule', async () => (await second.health()).schedules.runtime === keys.length);
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await ghost.close();
    await admin.close();
    await kit.teardown();
  }
}
