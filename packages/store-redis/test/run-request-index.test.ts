import { StoreSchemaError, type ScheduleRef } from '@tickwork/core';
import type { RunRequest, SlotClaim } from '@tickwork/core/store';
import { instantAt, scheduleInput } from '@tickwork/store-conformance';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { startMonitor } from './monitor.js';
import { adminClient, deletePrefix, keysUnder, randomPrefix, REDIS_URL } from './redis-fixture.js';

/** Pending requests of unrelated schedules; a call that scanned them would issue thousands of commands. */
const BACKLOG = 2_000;
/** Commands one script may issue for a handful of requests (type checks included). */
const FEW = 80;

/** The commands the store's scripts issued on keys under `prefix` while `work` ran, seen with MONITOR. */
async function scriptCommands<T>(admin: Redis, prefix: string, work: () => Promise<T>): Promise<{ result: T; commands: string[][] }> {
  const commands: string[][] = [];
  const marker = `${prefix}:monitor-marker`;
  let markerSeen: () => void = () => {};
  const sawMarker = new Promise<void>((resolve) => {
    markerSeen = resolve;
  });
  const monitor = await startMonitor(REDIS_URL, ({ args, source }) => {
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
    monitor.stop();
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
  return commands.filter(
    ([name, key]) => key === `${prefix}:#:requests` && /^(zrange|zrangebylex|zrangebyscore|zscan|zrevrange)/i.test(name ?? ''),
  );
}

/** The claim that consumes one pending request (the only way a request is consumed). */
const claimOf = (request: RunRequest): SlotClaim => ({
  code: request.code,
  key: request.key,
  slotAt: request.requestedAt,
  attempt: 1,
  trigger: 'manual',
  requestId: request.id,
  overlap: 'allowAll',
  leaseMs: 60_000,
});

/** Claims these requests in one batch; answers the statuses. */
async function claimRequests(store: RedisStore, requests: readonly RunRequest[], runnerId = 'r'): Promise<string[]> {
  const outcomes = await store.claimSlots(requests.map(claimOf), { runnerId, now: instantAt(100_000) });
  return outcomes.map((outcome) => outcome.status);
}

const byAge = (requests: RunRequest[]) =>
  [...requests].sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime() || Number(a.id) - Number(b.id));

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
    await store.upsertSchedules(
      [...bulk, target, idle].map((ref) => scheduleInput(ref)),
      instantAt(0),
    );
    for (let i = 0; i < BACKLOG; i += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, j) => store.requestRun(bulk[(i + j) % 100] as ScheduleRef, { now: instantAt(10 * (i + j)) })),
      );
    }
    // Requested at instants among the backlog's, and not in filing order.
    const targetRequests = [
      await store.requestRun(target, { now: instantAt(15_005) }),
      await store.requestRun(target, { now: instantAt(5_005) }),
      await store.requestRun(target, { now: instantAt(9_005) }),
    ];
    const quietRequests = [
      await store.requestRun(quiet, { now: instantAt(7_005) }),
      await store.requestRun(quiet, { now: instantAt(12_005) }),
    ];
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

  it('pendingRunRequests by refs reads only those schedules’ requests, oldest first across the refs; claiming one by id touches only it', async () => {
    const { targetRequests, quietRequests } = await fileBacklog();
    const none = await scriptCommands(admin, prefix, () => store.pendingRunRequests({ refs: [idle] }));
    expect(none.result).toEqual([]);
    expect(requestFieldsTouched(none.commands, prefix)).toEqual([]);
    expect(globalOrderReads(none.commands, prefix)).toEqual([]);
    expect(none.commands.length).toBeLessThan(FEW);

    const mine = byAge([...targetRequests, ...quietRequests]);
    const listed = await scriptCommands(admin, prefix, () => store.pendingRunRequests({ refs: [target, idle, quiet, target], limit: 4 }));
    expect(listed.result).toEqual(mine.slice(0, 4));
    expect(requestFieldsTouched(listed.commands, prefix).every((id) => mine.some((r) => r.id === id))).toBe(true);
    expect(globalOrderReads(listed.commands, prefix)).toEqual([]);
    expect(listed.commands.length).toBeLessThan(FEW);
    // codes and refs together: a ref outside the codes is not listed.
    expect(await store.pendingRunRequests({ refs: [target, quiet], codes: ['bulk'] })).toEqual([]);

    const first = mine[0] as RunRequest;
    const claimed = await scriptCommands(admin, prefix, () => claimRequests(store, [first]));
    expect(claimed.result).toEqual(['claimed']);
    expect(requestFieldsTouched(claimed.commands, prefix).every((id) => id === first.id)).toBe(true);
    expect(globalOrderReads(claimed.commands, prefix)).toEqual([]);
    expect(claimed.commands.length).toBeLessThan(FEW);
    expect(await store.pendingRunRequests({ refs: [target, quiet] })).toEqual(mine.slice(1));
    expect(await store.pendingRunRequests()).toHaveLength(BACKLOG + 4);
  });

  it('pendingRunRequests by codes reads only those jobs’ requests', async () => {
    const { targetRequests, quietRequests } = await fileBacklog();
    const other = await scriptCommands(admin, prefix, () => store.pendingRunRequests({ codes: ['other'], limit: 10 }));
    expect(other.result).toEqual([]);
    expect(requestFieldsTouched(other.commands, prefix)).toEqual([]);
    expect(globalOrderReads(other.commands, prefix)).toEqual([]);
    expect(other.commands.length).toBeLessThan(FEW);

    const mine = byAge([...targetRequests, ...quietRequests]);
    const pending = await scriptCommands(admin, prefix, () =>
      store.pendingRunRequests({ codes: ['quiet', 'report', 'other', 'quiet'], limit: 10 }),
    );
    expect(pending.result).toEqual(mine);
    expect(requestFieldsTouched(pending.commands, prefix).every((id) => mine.some((r) => r.id === id))).toBe(true);
    expect(globalOrderReads(pending.commands, prefix)).toEqual([]);
    expect(pending.commands.length).toBeLessThan(FEW);
    expect(await store.pendingRunRequests({ codes: ['report', 'quiet'], limit: 2 })).toEqual(mine.slice(0, 2));

    expect(await claimRequests(store, quietRequests)).toEqual(['claimed', 'claimed']);
    expect(await store.pendingRunRequests({ codes: ['quiet', 'report'] })).toEqual(byAge(targetRequests));
  });

  it('each index entry goes with its request, whichever call takes it, also for codes that need percent-encoding', async () => {
    const odd = ['x{y}:z', 'é😀', 'a b', '100%'];
    const runtime: ScheduleRef[] = [
      { code: 'job', key: 'k1' },
      { code: 'job', key: 'k1#' },
      { code: 'job', key: 'k' },
    ];
    await store.upsertSchedules(
      runtime.map((ref) => scheduleInput(ref)),
      instantAt(0),
    );
    let t = 0;
    const file = (ref: ScheduleRef) => {
      t += 1;
      return store.requestRun(ref, { now: instantAt(t) });
    };
    for (const code of odd) await file({ code, key: '' });
    for (const ref of runtime) await file(ref);
    for (const ref of runtime) await file(ref);
    // Removing k1 leaves the keys that share its prefix alone.
    expect(await store.removeSchedules([{ code: 'job', key: 'k1' }])).toEqual([true]);
    expect((await store.pendingRunRequests({ codes: ['job'] })).map((r) => r.key)).toEqual(['k1#', 'k', 'k1#', 'k']);
    const ofK = await store.pendingRunRequests({ refs: [{ code: 'job', key: 'k' }] });
    expect(ofK.map((r) => r.key)).toEqual(['k', 'k']);
    expect(await claimRequests(store, ofK)).toEqual(['claimed', 'claimed']);
    const ofOdd = await store.pendingRunRequests({ codes: [odd[0] as string] });
    expect(ofOdd.map((r) => r.code)).toEqual([odd[0]]);
    expect(await claimRequests(store, ofOdd)).toEqual(['claimed']);
    // The unfiltered list finds each request's job keys from its code.
    const rest = await store.pendingRunRequests();
    expect(rest.map((r) => [r.code, r.key])).toEqual([...odd.slice(1).map((code) => [code, '']), ['job', 'k1#'], ['job', 'k1#']]);
    expect(await claimRequests(store, rest)).toEqual(rest.map(() => 'claimed'));
    expect(await store.pendingRunRequests()).toEqual([]);
    for (const code of odd) expect(await store.pendingRunRequests({ codes: [code] })).toEqual([]);
    // A consumed request is never claimed again.
    expect(await claimRequests(store, rest, 'other')).toEqual(rest.map(() => 'taken'));
    const left = (await keysUnder(admin, prefix)).filter((key) => /request|reqrefs/.test(key));
    expect(left).toEqual([]);
  });

  it('a foreign key where a job’s request index belongs fails filing, claiming and removal with StoreSchemaError, changing nothing', async () => {
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
    // A batch claiming the request of job audit is refused as a whole, the other job's request included.
    await expectRefused(store.claimSlots([claimOf(kept), claimOf(own)], { runnerId: 'r', now: instantAt(3) }), refsKey);
    expect(await admin.get(`${prefix}:#:reqseq`)).toBe(seq);
    expect(await store.getSchedules([target, audit])).toHaveLength(2);
    expect(await store.pendingRunRequests()).toEqual([kept, own]);
    expect(await admin.get(refsKey)).toBe('not ours');
    await admin.rename(`${prefix}:saved`, refsKey);
    await admin.rename(jobKey, `${prefix}:saved`);
    await admin.set(jobKey, 'not ours');
    await expectRefused(store.pendingRunRequests({ codes: ['audit'] }), jobKey);
    await expectRefused(store.claimSlots([claimOf(own)], { runnerId: 'r', now: instantAt(3) }), jobKey);
    expect(await store.pendingRunRequests()).toEqual([kept, own]);
    expect(await admin.get(jobKey)).toBe('not ours');
  });

  it('racing instances listing with different filters and claiming what they list run each request exactly once', async () => {
    const refs = Array.from({ length: 20 }, (_, i): ScheduleRef => ({ code: `c${i % 4}`, key: `k${i}` }));
    await store.upsertSchedules(
      refs.map((ref) => scheduleInput(ref)),
      instantAt(0),
    );
    const made = await Promise.all(
      Array.from({ length: 400 }, (_, i) => store.requestRun(refs[i % 20] as ScheduleRef, { now: instantAt((i * 7919) % 1_000) })),
    );
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
      const won: string[] = [];
      for (let round = 0; round < 400 && won.length < made.length; round += 1) {
        await Promise.all(
          racers.map(async (racer, i) => {
            const filter = filters[i] as (typeof filters)[number];
            const batch = await racer.pendingRunRequests(filter);
            expect(batch.length).toBeLessThanOrEqual(filter.limit);
            expect(batch).toEqual(byAge(batch));
            const outcomes = await racer.claimSlots(batch.map(claimOf), { runnerId: `racer-${i}`, now: instantAt(10_000) });
            outcomes.forEach((outcome, j) => {
              expect(['claimed', 'taken']).toContain(outcome.status);
              if (outcome.status === 'claimed') won.push((batch[j] as RunRequest).id);
            });
          }),
        );
      }
      expect(new Set(won).size).toBe(won.length);
      expect(won.sort()).toEqual(made.map((request) => request.id).sort());
      expect(await store.pendingRunRequests()).toEqual([]);
      expect((await keysUnder(admin, prefix)).filter((key) => /request|reqrefs/.test(key))).toEqual([]);
    } finally {
      await Promise.all(racers.map((racer) => racer.close()));
    }
  });
});
