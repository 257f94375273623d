import { createMemoryBackend, createMemoryStore, createScheduler, defineJob, every, silentLogger, type RunContext } from '@tickwork/core';
import { PARTITION_COUNT, partitionOf } from '@tickwork/core/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon, type DaemonHandle, DaemonStartError } from '../src/index.js';
import { JOIN_WAIT_MS } from '../src/partitions.js';
import { advance, fakeTime, flaky, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

const SCHEDULES = 300;
const TTL = 3_000;
const keys = Array.from({ length: SCHEDULES }, (_, i) => `tenant-${i}`);

/**
 * Three daemons with partitions on (one store instance each, one backend), a job with 300 every-second runtime
 * schedules. Started together, or with `firstAlone` the first one ready (holding every partition) before the others start.
 */
async function threeDaemons({ firstAlone = false } = {}) {
  fakeTime();
  const backend = createMemoryBackend();
  const seen: { key: string; slot: number; runner: string }[] = [];
  const job = defineJob({
    code: 'report',
    schedule: null,
    allowParallelRuns: true,
    run: (ctx: RunContext) => {
      seen.push({ key: ctx.key, slot: ctx.slot.getTime(), runner: ctx.runnerId });
    },
  });
  const ticks: string[] = [];
  const own = defineJob({ code: 'own', schedule: every('1s'), run: (ctx: RunContext) => void ticks.push(ctx.runnerId) });
  const store = createMemoryStore({ backend });
  await createScheduler({ jobs: [job], store })
    .schedules('report')
    .upsert(keys.map((key) => ({ key, schedule: every('1s') })));
  const listings: { runner: string; partitions: readonly number[] | undefined; rows: number }[][] = [[], [], []];
  const stores = [0, 1, 2].map((i) => {
    const inner = createMemoryStore({ backend });
    const list = inner.listSchedules.bind(inner);
    // Every listing of runtime schedules a daemon asks its store for: the partitions it names, the rows it got.
    inner.listSchedules = async (query) => {
      const page = await list(query);
      listings[i]?.push({ runner: `d${i + 1}`, partitions: query?.partitions, rows: page.schedules.length });
      return page;
    };
    return flaky(inner);
  });
  const start = (s: (typeof stores)[number], i: number) =>
    createDaemon(
      { jobs: [job, own], store: s },
      {
        clock: { now: () => new Date() },
        logger: silentLogger,
        runnerId: `d${i + 1}`,
        pollIntervalMs: 200,
        partitions: true,
        partitionTtlMs: TTL,
      },
    );
  const daemons: DaemonHandle[] = [];
  for (const [i, s] of stores.entries()) {
    if (firstAlone && i === 1) {
      // Alone in the presence at both looks, JOIN_WAIT_MS apart: it takes every partition.
      await advance(JOIN_WAIT_MS);
      await daemons[0]?.ready;
    }
    daemons.push(start(s, i));
  }
  // Each looks at the presence twice, JOIN_WAIT_MS apart, before its first lease.
  await advance(JOIN_WAIT_MS);
  await Promise.all(daemons.map((d) => d.ready));
  return { daemons, stores, seen, ticks, listings };
}

/** Per key, how many of `daemons` hold it loaded. */
function holders(daemons: DaemonHandle[]): number[] {
  return keys.map((key) => daemons.filter((d) => d.loadedSchedule({ code: 'report', key }) !== null).length);
}

/** Advances fake time in steps until `done` holds; a fake-time bound, never a wall-clock one. */
async function until(done: () => Promise<boolean> | boolean, what: string, boundMs = 60_000): Promise<void> {
  for (let waited = 0; !(await done()); waited += 100) {
    if (waited > boundMs) throw new Error(`${what}: not reached within ${boundMs} ms of fake time`);
    await advance(100);
  }
}

describe('partitioned runtime schedules (partitions: true)', () => {
  it('each runtime schedule is loaded by exactly one daemon, each daemon loads only its partitions, and every slot runs once', async () => {
    const { daemons, seen } = await threeDaemons();
    // Started together, each first lease took its share among the live runners the presence listed: no daemon took more.
    expect((await Promise.all(daemons.map((d) => d.health()))).map((h) => h.partitions)).toEqual([86, 86, 84]);
    await until(async () => {
      const healths = await Promise.all(daemons.map((d) => d.health()));
      return healths.every((h) => h.partitions !== null && h.partitions >= 84) && holders(daemons).every((n) => n === 1);
    }, 'fair shares, each schedule loaded once');
    const healths = await Promise.all(daemons.map((d) => d.health()));
    expect(healths.map((h) => h.partitions).reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(PARTITION_COUNT);
    expect(holders(daemons).every((n) => n === 1)).toBe(true);
    // Each daemon holds exactly the schedules of its partitions: its loaded count is theirs.
    for (const [i, daemon] of daemons.entries()) {
      const mine = keys.filter((key) => daemon.loadedSchedule({ code: 'report', key }) !== null);
      expect(healths[i]?.schedules.runtime).toBe(mine.length);
      // Both jobs' own schedules are on every daemon.
      expect(healths[i]?.schedules.code).toBe(2);
      expect(mine.length).toBeLessThan(SCHEDULES);
    }
    const from = Date.now() + 2_000;
    await advance(5_000);
    const to = Date.now() - 1_000;
    await stopAll(daemons);
    const window = seen.filter((s) => s.slot >= from && s.slot < to);
    const slots = Math.ceil((to - from) / 1_000);
    expect(window).toHaveLength(SCHEDULES * slots);
    expect(new Set(window.map((s) => `${s.key} ${s.slot}`)).size).toBe(SCHEDULES * slots);
    // Run by the daemon holding its partition (no two daemons share a schedule's slots in the window).
    const runnersOf = new Map<string, Set<string>>();
    for (const s of window) runnersOf.set(s.key, (runnersOf.get(s.key) ?? new Set()).add(s.runner));
    expect([...runnersOf.values()].every((runners) => runners.size === 1)).toBe(true);
  });

  // A daemon claims a slot ahead of its instant; giving the slot's partition up before the instant dropped
  // the schedule's entry, and the gate at the instant took the missing entry for a removed schedule: the slot
  // was recorded skipped (disabled) while its new owner found it taken — a slot nobody ran.
  it('a slot claimed ahead by a daemon that gives its partition up before the instant still runs there, once', async () => {
    const { daemons, stores, seen } = await threeDaemons({ firstAlone: true });
    // From the start: the first daemon holds every partition, claims ahead, and hands two thirds over.
    const from = Date.now() + 1_000;
    await until(() => holders(daemons).every((n) => n === 1), 'fair shares, each schedule loaded once');
    await advance(3_000);
    const to = Date.now() - 1_000;
    await stopAll(daemons);
    const notRun = await (stores[0] as (typeof stores)[number]).queryRuns({ code: 'report', status: 'skipped', limit: 1_000 });
    expect(notRun.runs.filter((run) => run.slotAt.getTime() >= from && run.slotAt.getTime() < to).map((r) => r.skipReason)).toEqual([]);
    const window = seen.filter((s) => s.slot >= from && s.slot < to);
    const slots = Math.ceil((to - from) / 1_000);
    expect(new Set(window.map((s) => `${s.key} ${s.slot}`)).size).toBe(window.length);
    expect(window).toHaveLength(SCHEDULES * slots);
  });

  it("a daemon's store lists only the runtime schedules of the partitions it holds (listSchedules({ partitions }))", async () => {
    const { daemons, listings } = await threeDaemons();
    await until(async () => {
      const healths = await Promise.all(daemons.map((d) => d.health()));
      return healths.every((h) => (h.partitions ?? 0) >= 84) && holders(daemons).every((n) => n === 1);
    }, 'fair shares, each schedule loaded once');
    await stopAll(daemons);
    for (const calls of listings) {
      expect(calls.length).toBeGreaterThan(0);
      // Every listing names partitions: the store reads theirs, not every schedule.
      expect(calls.filter((c) => c.partitions === undefined)).toEqual([]);
    }
    // The two daemons that joined the first one list what they took from it, not all 300 again and again.
    const rows = listings.map((calls) => calls.reduce((sum, c) => sum + c.rows, 0)).sort((a, b) => a - b);
    expect(rows[0]).toBeLessThan(SCHEDULES);
    expect(rows[1]).toBeLessThan(SCHEDULES);
  });

  it('a daemon cut off from the store drops its partitions before their lease ends; the others take them over and miss no slot', async () => {
    const { daemons, stores, seen, ticks } = await threeDaemons();
    await until(async () => (await Promise.all(daemons.map((d) => d.health()))).every((h) => (h.partitions ?? 0) >= 84), 'fair shares');
    const cut = stores[0] as (typeof stores)[number];
    const [lonely, ...others] = daemons as [DaemonHandle, ...DaemonHandle[]];
    cut.down = true;
    const cutAt = Date.now();
    // Within 5/6 of the TTL it holds nothing (the store could hand its partitions to another after the TTL).
    await until(async () => (await lonely.health()).partitions === 0, 'the cut-off daemon drops its partitions', TTL);
    expect(Date.now() - cutAt).toBeLessThan(TTL);
    expect((await lonely.health()).schedules.runtime).toBe(0);
    // The two others cover every schedule once, each loading only its own.
    await until(() => holders(others).every((n) => n === 1), 'takeover by the others');
    const healths = await Promise.all(others.map((d) => d.health()));
    expect(healths.map((h) => h.partitions ?? 0).reduce((a, b) => a + b, 0)).toBe(PARTITION_COUNT);
    const from = Date.now() + 2_000;
    await advance(5_000);
    const to = Date.now() - 1_000;
    const window = seen.filter((s) => s.slot >= from && s.slot < to);
    const slots = Math.ceil((to - from) / 1_000);
    expect(new Set(window.map((s) => `${s.key} ${s.slot}`)).size).toBe(SCHEDULES * slots);
    expect(window).toHaveLength(SCHEDULES * slots);
    expect(window.some((s) => s.runner === 'd1')).toBe(false);
    // The jobs' own schedules stay on every daemon: the cut-off one still has its own job loaded.
    expect(lonely.loadedSchedule({ code: 'own', key: '' })).not.toBeNull();
    expect(ticks.length).toBeGreaterThan(0);
    cut.down = false;
    // Back: it gets a share again.
    await until(async () => ((await lonely.health()).partitions ?? 0) > 0, 'the daemon rejoins');
    await stopAll(daemons);
  });

  it('a stopped daemon frees its partitions at once: the others take them on their next renewal', async () => {
    const { daemons } = await threeDaemons();
    await until(async () => (await Promise.all(daemons.map((d) => d.health()))).every((h) => (h.partitions ?? 0) >= 84), 'fair shares');
    const [first, ...others] = daemons as [DaemonHandle, ...DaemonHandle[]];
    await stopAll([first]);
    const stoppedAt = Date.now();
    await until(() => holders(others).every((n) => n === 1), 'takeover after a stop');
    // Freed, not lapsed: the renewals after the stop (every TTL / 3) take them, well before the TTL.
    expect(Date.now() - stoppedAt).toBeLessThan(TTL);
    await stopAll(others);
  });

  it('keeps renewing its lease while a load outlasts the TTL (start-up and gained partitions), so it never drops them', async () => {
    fakeTime();
    const backend = createMemoryBackend();
    const job = defineJob({ code: 'report', schedule: null, run: () => {} });
    const store = createMemoryStore({ backend });
    await createScheduler({ jobs: [job], store })
      .schedules('report')
      .upsert(keys.slice(0, 50).map((key) => ({ key, schedule: every('1s') })));
    // Every listing takes twice the TTL: the start-up load, and a later daemon's load of what it gains.
    const slow = (inner: typeof store): typeof store => ({
      ...inner,
      listSchedules: async (query) => {
        await new Promise((resolve) => setTimeout(resolve, 2 * TTL));
        return inner.listSchedules(query);
      },
    });
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_: object, msg?: string) => void warnings.push(msg ?? ''), child: () => logger };
    const options = { clock: { now: () => new Date() }, logger, pollIntervalMs: 200, partitions: true, partitionTtlMs: TTL };
    const first = createDaemon({ jobs: [job], store: slow(createMemoryStore({ backend })) }, { ...options, runnerId: 'd1' });
    await until(async () => (await first.health()).ok, 'the first daemon ready');
    const second = createDaemon({ jobs: [job], store: slow(createMemoryStore({ backend })) }, { ...options, runnerId: 'd2' });
    await until(
      () =>
        holders([first, second])
          .slice(0, 50)
          .every((n) => n === 1),
      'both daemons sharing the schedules',
    );
    await advance(4 * TTL);
    expect(warnings.filter((w) => /not renewed in time/.test(w))).toEqual([]);
    const healths = await Promise.all([first.health(), second.health()]);
    expect(healths.map((h) => h.partitions)).toEqual([PARTITION_COUNT / 2, PARTITION_COUNT / 2]);
    await stopAll([first, second]);
  });

  it('a partition given up while its schedules are being read at start-up is not loaded after all', async () => {
    fakeTime();
    const backend = createMemoryBackend();
    const job = defineJob({ code: 'report', schedule: null, run: () => {} });
    const store = createMemoryStore({ backend });
    await createScheduler({ jobs: [job], store })
      .schedules('report')
      .upsert(keys.slice(0, 50).map((key) => ({ key, schedule: every('1s') })));
    // State reads take twice the TTL: the first daemon lists while it holds every partition, and has
    // given half of them to the second before the states of what it listed come back.
    const slow = (inner: typeof store): typeof store => ({
      ...inner,
      getStates: async (refs) => {
        await new Promise((resolve) => setTimeout(resolve, 2 * TTL));
        return inner.getStates(refs);
      },
    });
    const options = { clock: { now: () => new Date() }, logger: silentLogger, pollIntervalMs: 200, partitions: true, partitionTtlMs: TTL };
    const daemons = ['d1', 'd2'].map((runnerId) =>
      createDaemon({ jobs: [job], store: slow(createMemoryStore({ backend })) }, { ...options, runnerId }),
    );
    await until(
      async () => (await Promise.all(daemons.map((d) => d.health()))).every((h) => h.partitions === PARTITION_COUNT / 2),
      'halves',
    );
    await advance(4 * TTL);
    expect(holders(daemons).slice(0, 50)).toEqual(Array.from({ length: 50 }, () => 1));
    for (const daemon of daemons) {
      const mine = keys.slice(0, 50).filter((key) => daemon.loadedSchedule({ code: 'report', key }) !== null);
      expect((await daemon.health()).schedules.runtime).toBe(mine.length);
    }
    await stopAll(daemons);
  });

  it('is off by default, and refused with a store that cannot lease partitions', async () => {
    fakeTime();
    const job = defineJob({ code: 'report', schedule: every('1s'), run: () => {} });
    const plain = createDaemon({ jobs: [job], store: createMemoryStore() }, { clock: { now: () => new Date() }, logger: silentLogger });
    await advance(0);
    await plain.ready;
    expect((await plain.health()).partitions).toBeNull();
    await stopAll([plain]);
    const store = createMemoryStore();
    const { leasePartitions: _lease, releasePartitions: _release, ...without } = store;
    const refused = createDaemon(
      { jobs: [job], store: without as typeof store },
      { clock: { now: () => new Date() }, logger: silentLogger, partitions: true },
    );
    await expect(refused.ready).rejects.toThrow(DaemonStartError);
    await expect(refused.ready).rejects.toThrow(/leasePartitions/);
  });
});

describe('a stopping daemon (partitions: true)', () => {
  it('releases its partitions once it stops claiming: a slot of theirs due during its grace runs once, by another daemon, on time', async () => {
    fakeTime();
    const backend = createMemoryBackend();
    const tenants = Array.from({ length: 40 }, (_, i) => `t-${i}`);
    const ran: { key: string; slot: number; runner: string; at: number }[] = [];
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const job = defineJob({
      code: 'report',
      schedule: null,
      allowParallelRuns: true,
      run: async (ctx: RunContext) => {
        ran.push({ key: ctx.key, slot: ctx.slot.getTime(), runner: ctx.runnerId, at: Date.now() });
        if (ctx.key === 'slow') await blocked;
      },
    });
    await createScheduler({ jobs: [job], store: createMemoryStore({ backend }) })
      .schedules('report')
      .upsert([...tenants, 'slow'].map((key) => ({ key, schedule: every('1s') })));
    const options = { clock: { now: () => new Date() }, logger: silentLogger, pollIntervalMs: 200, partitions: true, partitionTtlMs: TTL };
    const daemons = ['a', 'b'].map((runnerId) =>
      createDaemon({ jobs: [job], store: createMemoryStore({ backend }) }, { ...options, runnerId, shutdownGraceMs: 60_000 }),
    );
    await advance(JOIN_WAIT_MS);
    await Promise.all(daemons.map((d) => d.ready));
    await until(
      async () => (await Promise.all(daemons.map((d) => d.health()))).every((h) => h.partitions === PARTITION_COUNT / 2),
      'halves',
    );
    // A: the daemon holding 'slow'; a tenant of its partitions is the probe.
    const a = daemons.find((d) => d.loadedSchedule({ code: 'report', key: 'slow' }) !== null) as DaemonHandle;
    const b = daemons.find((d) => d !== a) as DaemonHandle;
    const probe = tenants.find((key) => a.loadedSchedule({ code: 'report', key }) !== null) as string;
    expect(probe).toBeDefined();
    await until(() => ran.some((r) => r.key === 'slow' && r.runner === a.runnerId), 'the slow handler runs on A');
    const stopping = a.stop();
    const stoppedAt = Date.now();
    // A's grace is 60 s with its handler still running; B must take the probe within one renewal of B (TTL / 3).
    await advance(10_000);
    const window = ran.filter((r) => r.key === probe && r.slot >= stoppedAt + TTL && r.slot < stoppedAt + 10_000);
    const slots = [...new Set(window.map((r) => r.slot))].sort((x, y) => x - y);
    // Every slot of the probe from a TTL after the stop on: run exactly once, by B, within a second of its instant.
    expect(slots.length).toBe(Math.floor((10_000 - TTL) / 1_000));
    expect(window.length).toBe(slots.length);
    expect(window.every((r) => r.runner === b.runnerId && r.at - r.slot < 1_000)).toBe(true);
    expect((await a.health()).partitions).toBe(0);
    unblock();
    await advance(1_000);
    await stopping;
    await stopAll([b]);
  });
});
