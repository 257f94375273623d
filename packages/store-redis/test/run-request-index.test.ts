import { StoreSchemaError, type RunRequest, type ScheduleRef } from '@tickwork/core';
import { instantAt, scheduleInput } from '@tickwork/store-conformance';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { adminClient, deletePrefix, keysUnder, randomPrefix, REDIS_URL } from './redis-fixture.js';

/** Pending requests of unrelated schedules; a call that scanned them would issue thousands of commands. */
const BACKLOG = 2_000;
/** Commands one script may issue for a handful of requests (type checks included). */
const FEW = 80;

/** The commands the store's scripts issued on keys under `prefix` while `work` ran, seen with MONITOR. */
async function scriptCommands<T>(admin: Redis, prefix: string, work: () => Promise<T>): Promise<{ result: T; commands: string[][] }> {
  const monitor = await admin.monitor();
  const commands: string[][] = [];
  const marker = `${prefix}:monitor-marker`;
  let markerSeen: () => void = () => {};
  const sawMarker = new Promise<void>((resolve) => {
    markerSeen = resolve;
  });
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[1] === marker) markerSeen();
    else if (source === 'lua' && args.some((arg) => arg.includes(prefix))) commands.push(args);
  });
  try {
    const result = await work();
    // MONITOR reports commands in execution order: once the marker shows up, every command of `work` has too.
    await admin.exists(marker);
    await sawMarker;
    return { result, commands };
  } finally {
    monitor.disconnect();
  }
}

/** The request ids whose stored JSON the commands read or deleted; '*' when one read the whole hash. */
function requestFieldsTouched(commands: string[][], prefix: string): string[] {
  const hash = `${prefix}:#:request`;
  const out: string[] = [];
  for (const [name, key, ...rest] of commands) {
    if (key !== hash || /^(type|exists)$/i.test(name ?? '')) continue;
    if (['hget', 'hdel', 'hmget', 'hexists'].includes((name ?? '').toLowerCase())) out.push(...rest);
    else out.push('*');
  }
  return out;
}

/** Commands that read a range of the global (all jobs) request order. */
function globalOrderReads(commands: string[][], prefix: string): string[][] {
  return commands.filter(([name, key]) => key === `${prefix}:#:requests` && /^(zrange|zrangebylex|zrangebyscore|zscan|zrevrange)/i.test(name ?? ''));
}

const byAge = (requests: RunRequest[]) => [...requests].sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime() || Number(a.id) - Number(b.id));

describe('run-now requests are indexed by schedule and by job', () => {
  let admin: Redis;
  let prefix: string;
  let store: RedisStore;
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('reqidx');
    store = createRedisStore({ url: REDIS_URL, prefix });
  });
  afterEach(async () => {
    await store.close();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  const target: ScheduleRef = { code: 'report', key: 'target' };
  const quiet: ScheduleRef = { code: 'quiet', key: '' };
  const idle: ScheduleRef = { code: 'report', key: 'idle' };

  /** BACKLOG requests over 100 schedules of job `bulk`, and 3 for `target` and 2 for `quiet` filed in between. */
  async function fileBacklog(): Promise<{ targetRequests: RunRequest[]; quietRequests: RunRequest[] }> {
    const bulk = Array.from({ length: 100 }, (_, i): ScheduleRef => ({ code: 'bulk', key: `b${i}` }));
    await store.upsertSchedules([...bulk, target, idle].map((ref) => scheduleInput(ref)), instantAt(0));
    for (let i = 0; i < BACKLOG; i += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, j) => store.requestRun(bulk[(i + j) % 100] as ScheduleRef, { now: instantAt(10 * (i + j)) })));
    }
    // Requested at instants among the backlog's, and not in filing order.
    const targetRequests = [
      await store.requestRun(target, { now: instantAt(15_005) }),
      await store.requestRun(target, { now: instantAt(5_005) }),
      await store.requestRun(target, { now: instantAt(9_005) }),
    ];
    const quietRequests = [await store.requestRun(quiet, { now: instantAt(7_005) }), await store.requestRun(quiet, { now: instantAt(12_005) })];
    expect(await store.pendingRunRequests()).toHaveLength(BACKLOG + 5);
    return { targetRequests, quietRequests };
  }

  it('removing a schedule touches only its own pending requests, however many others are pending', async () => {
    const { targetRequests, quietRequests } = await fileBacklog();
    const { result, commands } = await scriptCommands(admin, prefix, () => store.removeSchedules([target]));
    expect(result).toEqual([true]);
    expect(requestFieldsTouched(commands, prefix).sort()).toEqual(targetRequests.map((r) => r.id).sort());
    expect(globalOrderReads(commands, prefix)).toEqual([]);
    expect(commands.length).toBeLessThan(FEW);
    const pending = await store.pendingRunRequests();
    expect(pending).toHaveLength(BACKLOG + 2);
    expect(pending.filter((r) => r.code === 'report')).toEqual([]);
    expect(pending.filter((r) => r.code === 'quiet')).toEqual(quietRequests);
  });

  it('consumeRunRequests by refs reads only those schedules’ requests and takes them oldest first across the refs', async () => {
    const { targetRequests, quietRequests } = await fileBacklog();
    const none = await scriptCommands(admin, prefix, () => store.consumeRunRequests({ refs: [idle], now: instantAt(100_000) }));
    expect(none.result).toEqual([]);
    expect(requestFieldsTouched(none.commands, prefix)).toEqual([]);
    expect(globalOrderReads(none.commands, prefix)).toEqual([]);
    expect(none.commands.length).toBeLessThan(FEW);

    const mine = byAge([...targetRequests, ...quietRequests]);
    const taken = await scriptCommands(admin, prefix, () => store.consumeRunRequests({ refs: [target, idle, quiet, target], limit: 4, now: instantAt(100_000) }));
    expect(taken.result).toEqual(mine.slice(0, 4));
    const touched = requestFieldsTouched(taken.commands, prefix);
    expect(touched.every((id) => mine.some((r) => r.id === id))).toBe(true);
    expect(globalOrderReads(taken.commands, prefix)).toEqual([]);
    expect(taken.commands.length).toBeLessThan(FEW);
    // codes and refs together: a ref outside the codes is not taken.
    expect(await store.consumeRunRequests({ refs: [target, quiet], codes: ['bulk'], now: instantAt(100_000) })).toEqual([]);
    expect(await store.consumeRunRequests({ refs: [target, quiet], now: instantAt(100_000) })).toEqual(mine.slice(4));
    expect(await store.pendingRunRequests()).toHaveLength(BACKLOG);
  });

  it('pendingRunRequests and consumeRunRequests by codes read only those jobs’ requests', async () => {
    const { targetRequests, quietRequests } = await fileBacklog();
    const other = await scriptCommands(admin, prefix, () => store.pendingRunRequests({ codes: ['other'], limit: 10 }));
    expect(other.result).toEqual([]);
    expect(requestFieldsTouched(other.commands, prefix)).toEqual([]);
    expect(globalOrderReads(other.commands, prefix)).toEqual([]);
    expect(other.commands.length).toBeLessThan(FEW);

    const mine = byAge([...targetRequests, ...quietRequests]);
    const pending = await scriptCommands(admin, prefix, () => store.pendingRunRequests({ codes: ['quiet', 'report', 'other', 'quiet'], limit: 10 }));
    expect(pending.result).toEqual(mine);
    expect(requestFieldsTouched(pending.commands, prefix).every((id) => mine.some((r) => r.id === id))).toBe(true);
    expect(globalOrderReads(pending.commands, prefix)).toEqual([]);
    expect(pending.commands.length).toBeLessThan(FEW);
    expect(await store.pendingRunRequests({ codes: ['report', 'quiet'], limit: 2 })).toEqual(mine.slice(0, 2));

    const consumed = await scriptCommands(admin, prefix, () => store.consumeRunRequests({ codes: ['quiet'], now: instantAt(100_000) }));
    expect(consumed.result).toEqual(quietRequests);
    expect(requestFieldsTouched(consumed.commands, prefix).every((id) => quietRequests.some((r) => r.id === id))).toBe(true);
    expect(globalOrderReads(consumed.commands, prefix)).toEqual([]);
    expect(consumed.commands.length).toBeLessThan(FEW);
    expect(await store.pendingRunRequests({ codes: ['quiet', 'report'] })).toEqual(byAge(targetRequests));
  });

  it('each index entry goes with its request, whichever call takes it, also for codes that need percent-encoding', async () => {
    const odd = ['x{y}:z', 'é😀', 'a b', '100%'];
    const runtime: ScheduleRef[] = [
      { code: 'job', key: 'k1' },
      { code: 'job', key: 'k1#' },
      { code: 'job', key: 'k' },
    ];
    await store.upsertSchedules(runtime.map((ref) => scheduleInput(ref)), instantAt(0));
    let t = 0;
    const file = (ref: ScheduleRef) => store.requestRun(ref, { now: instantAt((t += 1)) });
    for (const code of odd) await file({ code, key: '' });
    for (const ref of runtime) await file(ref);
    for (const ref of runtime) await file(ref);
    // Removing k1 leaves the keys that share its prefix alone.
    expect(await store.removeSchedules([{ code: 'job', key: 'k1' }])).toEqual([true]);
    expect((await store.pendingRunRequests({ codes: ['job'] })).map((r) => r.key)).toEqual(['k1#', 'k', 'k1#', 'k']);
    expect((await store.consumeRunRequests({ refs: [{ code: 'job', key: 'k' }], now: instantAt(100) })).map((r) => r.key)).toEqual(['k', 'k']);
    expect((await store.consumeRunRequests({ codes: [odd[0] as string], now: instantAt(100) })).map((r) => r.code)).toEqual([odd[0]]);
    // Unfiltered consumption finds each request's job keys from its code.
    expect((await store.consumeRunRequests({ now: instantAt(100) })).map((r) => [r.code, r.key])).toEqual([
      ...odd.slice(1).map((code) => [code, '']),
      ['job', 'k1#'],
      ['job', 'k1#'],
    ]);
    expect(await store.pendingRunRequests()).toEqual([]);
    for (const code of odd) expect(await store.pendingRunRequests({ codes: [code] })).toEqual([]);
    expect(await store.consumeRunRequests({ refs: [{ code: 'job', key: 'k1#' }], now: instantAt(100) })).toEqual([]);
    const left = (await keysUnder(admin, prefix)).filter((key) => /request|reqrefs/.test(key));
    expect(left).toEqual([]);
  });

  it('a foreign key where a job’s request index belongs fails filing, consuming and removal with StoreSchemaError, changing nothing', async () => {
    const audit: ScheduleRef = { code: 'audit', key: 't' };
    await store.upsertSchedules([scheduleInput(audit), scheduleInput(target)], instantAt(0));
    const kept = await store.requestRun(target, { now: instantAt(1) });
    const own = await store.requestRun({ code: 'audit', key: '' }, { now: instantAt(2) });
    const refsKey = `${prefix}:{audit}:reqrefs`;
    const jobKey = `${prefix}:{audit}:requests`;
    const seq = await admin.get(`${prefix}:#:reqseq`);
    await admin.rename(refsKey, `${prefix}:saved`);
    await admin.set(refsKey, 'not ours');
    const expectRefused = async (call: Promise<unknown>, key: string) => {
      const error = await call.catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect((error as Error).message).toContain(key);
    };
    await expectRefused(store.requestRun(audit, { now: instantAt(3) }), refsKey);
    await expectRefused(store.removeSchedules([target, audit]), refsKey);
    await expectRefused(store.consumeRunRequests({ refs: [audit], now: instantAt(3) }), refsKey);
    // Unfiltered: the request of job audit is among those taken, so the whole call is refused.
    await expectRefused(store.consumeRunRequests({ now: instantAt(3) }), refsKey);
    expect(await admin.get(`${prefix}:#:reqseq`)).toBe(seq);
    expect(await store.getSchedules([target, audit])).toHaveLength(2);
    expect(await store.pendingRunRequests()).toEqual([kept, own]);
    expect(await admin.get(refsKey)).toBe('not ours');
    await admin.rename(`${prefix}:saved`, refsKey);
    await admin.rename(jobKey, `${prefix}:saved`);
    await admin.set(jobKey, 'not ours');
    await expectRefused(store.pendingRunRequests({ codes: ['audit'] }), jobKey);
    await expectRefused(store.consumeRunRequests({ codes: ['report', 'audit'], now: instantAt(3) }), jobKey);
    expect(await store.pendingRunRequests()).toEqual([kept, own]);
    expect(await admin.get(jobKey)).toBe('not ours');
  });

  it('racing instances consuming with different filters hand out each request exactly once, oldest first', async () => {
    const refs = Array.from({ length: 20 }, (_, i): ScheduleRef => ({ code: `c${i % 4}`, key: `k${i}` }));
    await store.upsertSchedules(refs.map((ref) => scheduleInput(ref)), instantAt(0));
    const made = await Promise.all(Array.from({ length: 400 }, (_, i) => store.requestRun(refs[i % 20] as ScheduleRef, { now: instantAt((i * 7919) % 1_000) })));
    const filters: { codes?: string[]; refs?: ScheduleRef[]; limit: number }[] = [
      { limit: 7 },
      { codes: ['c0', 'c1'], limit: 5 },
      { refs: refs.slice(0, 6), limit: 3 },
      { refs: refs.slice(4, 14), codes: ['c1', 'c2', 'c3'], limit: 4 },
      { codes: ['c3'], limit: 9 },
      { refs: [refs[19] as ScheduleRef, refs[2] as ScheduleRef], limit: 2 },
      { limit: 1 },
      { codes: ['c2', 'c0'], limit: 6 },
    ];
    const racers = filters.map(() => createRedisStore({ url: REDIS_URL, prefix }));
    try {
      const taken: RunRequest[][] = [];
      for (let round = 0; round < 200 && taken.flat().length < made.length; round += 1) {
        const batches = await Promise.all(racers.map((racer, i) => racer.consumeRunRequests({ ...filters[i], now: instantAt(10_000) })));
        batches.forEach((batch, i) => {
          const filter = filters[i] as (typeof filters)[number];
          expect(batch.length).toBeLessThanOrEqual(filter.limit);
          for (const request of batch) {
            if (filter.codes) expect(filter.codes).toContain(request.code);
            if (filter.refs) expect(filter.refs.some((ref) => ref.code === request.code && ref.key === request.key)).toBe(true);
          }
          expect(batch).toEqual(byAge(batch));
        });
        taken.push(...batches);
      }
      const ids = taken.flat().map((request) => request.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(made.map((request) => request.id).sort());
      expect(await store.pendingRunRequests()).toEqual([]);
      expect((await keysUnder(admin, prefix)).filter((key) => /request|reqrefs/.test(key))).toEqual([]);
    } finally {
      await Promise.all(racers.map((racer) => racer.close()));
    }
  });
});
