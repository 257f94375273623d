import { InvalidArgumentError, StoreSchemaError, type ScheduleRef } from '@tickwork/core';
import { encodeScheduleDefinition, PARTITION_COUNT, partitionOf } from '@tickwork/core/store';
import { claimFor, scheduleInput } from '@tickwork/store-conformance';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { adminClient, deletePrefix, keysUnder, randomPrefix, REDIS_URL } from './redis-fixture.js';

const now = new Date('2030-01-07T00:00:00.000Z');
const ref = (key: string, code = 'report'): ScheduleRef => ({ code, key });

describe('runtime schedules on Redis', () => {
  let admin: Redis;
  let prefix: string;
  let store: RedisStore;
  const scheduleKey = (key: string, encodedCode = 'report') => `${prefix}:{${encodedCode}}:schedule:${key}`;
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('sched');
    store = createRedisStore({ url: REDIS_URL, prefix });
  });
  afterEach(async () => {
    await store.close();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it("a schedule is one hash under its job's hash tag, holding core's canonical definition text, plus one index member", async () => {
    const input = scheduleInput(ref('acme'), { payload: { b: 1, a: [2, { d: 4, c: 3 }] }, description: 'é 😀' });
    const [stored] = await store.upsertSchedules([input], now);
    expect(await admin.hgetall(scheduleKey('acme'))).toEqual({
      definition: encodeScheduleDefinition(input),
      enabled: '1',
      version: String(stored?.version),
      createdAt: String(now.getTime()),
      updatedAt: String(now.getTime()),
    });
    expect(await admin.zrange(`${prefix}:#:schedules`, '0', '-1')).toEqual(['report\u0000acme']);
    await store.upsertSchedules([{ ...input, enabled: false }], new Date(now.getTime() + 1_000));
    expect(await admin.hget(scheduleKey('acme'), 'enabled')).toBe('0');
    await store.removeSchedules([ref('acme')]);
    expect(await admin.exists(scheduleKey('acme'))).toBe(0);
    expect(await admin.zcard(`${prefix}:#:schedules`)).toBe(0);
    expect(await admin.hexists(`${prefix}:{report}:states`, 'acme')).toBe(0);
  });

  it('a partitioned list rebuilds the partition index where an older release changed schedules without keeping it', async () => {
    const refs = Array.from({ length: 30 }, (_, i) => ref(`t-${i}`, i % 2 ? 'report' : 'billing'));
    await store.upsertSchedules(
      refs.map((r) => scheduleInput(r)),
      now,
    );
    const rev = `${prefix}:#:schedrev`;
    expect(await admin.hget(rev, 'parts')).toBe(await admin.hget(rev, 'n'));
    expect(await admin.zcard(`${prefix}:#:schedparts`)).toBe(30);
    // As the previous release writes: one schedule created, one removed, the revision moved, the partition index untouched.
    const created = scheduleInput(ref('old-1'));
    await admin.hset(scheduleKey('old-1'), {
      definition: encodeScheduleDefinition(created),
      enabled: '1',
      version: '999',
      createdAt: String(now.getTime()),
      updatedAt: String(now.getTime()),
    });
    await admin.zadd(`${prefix}:#:schedules`, 0, 'report\u0000old-1');
    await admin.hincrby(rev, 'n', 1);
    await admin.del(scheduleKey('t-1'));
    await admin.zrem(`${prefix}:#:schedules`, 'report\u0000t-1');
    await admin.hincrby(rev, 'n', 1);
    const all = (await store.listSchedules({ limit: 1000 })).schedules;
    expect(all).toHaveLength(30);
    const every = Array.from({ length: PARTITION_COUNT }, (_, i) => i);
    const expected = all
      .map((s, i) => ({ s, i, p: partitionOf(s.code, s.key) }))
      .sort((a, b) => a.p - b.p || a.i - b.i)
      .map(({ s }) => s);
    expect((await store.listSchedules({ partitions: every, limit: 1000 })).schedules).toEqual(expected);
    expect(await admin.hget(rev, 'parts')).toBe(await admin.hget(rev, 'n'));
    const members = await admin.zrange(`${prefix}:#:schedparts`, '0', '-1');
    expect(members).toEqual(expected.map((s) => `${String(partitionOf(s.code, s.key)).padStart(3, '0')}${s.code}\u0000${s.key}`));
  });

  it('upserting 1,000 schedules is one Redis command, and listing them two', async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2, commandTimeout: 10_000 });
    const injected = createRedisStore({ redis: client, prefix });
    try {
      await injected.upsertSchedules([scheduleInput(ref('warm-up'))], now); // loads the script (EVALSHA, then EVAL once)
      const sent: string[] = [];
      const original = client.sendCommand.bind(client);
      client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(command.name);
        return (original as (...args: unknown[]) => unknown)(command, ...rest);
      }) as typeof client.sendCommand;
      const refs = Array.from({ length: 1_000 }, (_, i) => ref(`k${String(i).padStart(4, '0')}`, `job-${i % 10}`));
      const stored = await injected.upsertSchedules(
        refs.map((r) => scheduleInput(r)),
        now,
      );
      expect(sent).toEqual(['evalsha']);
      expect(stored).toHaveLength(1_000);
      sent.length = 0;
      // Listing reads the index (one ZRANGE per shard: one on a single node), then the page's rows in one script.
      const page = await injected.listSchedules({ limit: 1_000 });
      expect(sent).toEqual(['zrange', 'evalsha']);
      expect(page.schedules).toHaveLength(1_000);
      expect(page.nextCursor).not.toBeNull();
    } finally {
      await injected.close();
      client.disconnect();
    }
  });

  it('codes that need percent-encoding in key names list and read back (the list script encodes them as keys.ts does)', async () => {
    const codes = ['a:b', 'x.y:z', '9:1', 'A-Z_0.9', 'a-b:c'];
    await store.upsertSchedules(
      codes.map((code) => scheduleInput(ref('k', code))),
      now,
    );
    const byBytes = [...codes].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const listed = await store.listSchedules();
    expect(listed.schedules.map((s) => s.code)).toEqual(byBytes);
    for (const code of codes) expect(await admin.exists(scheduleKey('k', encodeURIComponent(code)))).toBe(1);
    // Paging one by one crosses every code boundary.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.listSchedules(cursor === null ? { limit: 1 } : { limit: 1, cursor });
      paged.push(...page.schedules.map((s) => s.code));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(paged).toEqual(byBytes);
    expect((await store.listSchedules({ code: 'x.y:z' })).schedules.map((s) => s.code)).toEqual(['x.y:z']);
  });

  it('a damaged schedule hash fails reads, claims and upserts with StoreSchemaError naming it, and the batch changes nothing', async () => {
    const [good] = await store.upsertSchedules([scheduleInput(ref('good')), scheduleInput(ref('bad'))], now);
    await admin.hset(scheduleKey('bad'), 'enabled', 'maybe');
    const named = (error: unknown) => {
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect((error as Error).message).toContain(`key "${scheduleKey('bad')}"`);
    };
    named(await store.getSchedules([ref('bad')]).catch((e: unknown) => e));
    named(await store.listSchedules().catch((e: unknown) => e));
    named(await store.claimSlots([claimFor(ref('good'), now), claimFor(ref('bad'), now)], { runnerId: 'r', now }).catch((e: unknown) => e));
    named(
      await store
        .upsertSchedules([scheduleInput(ref('good'), { payload: 2 }), scheduleInput(ref('bad'), { payload: 2 })], now)
        .catch((e: unknown) => e),
    );
    named(await store.requestRun(ref('bad'), { now }).catch((e: unknown) => e));
    // Nothing of the refused batches happened: no run, the good schedule and its state untouched.
    expect((await store.queryRuns()).runs).toEqual([]);
    expect(await store.getSchedules([ref('good')])).toEqual([good]);
    expect((await store.getStates([ref('good')]))[0]?.totalRuns).toBe(0);
    expect(await admin.hget(scheduleKey('bad'), 'enabled')).toBe('maybe');
    // Removing it is the way out.
    expect(await store.removeSchedules([ref('bad')])).toEqual([true]);
    expect((await store.listSchedules()).schedules).toEqual([good]);
  });

  it('enabling a schedule whose state is damaged fails with StoreSchemaError naming the states hash, changing nothing', async () => {
    const [off] = await store.upsertSchedules([scheduleInput(ref('off'), { enabled: false }), scheduleInput(ref('other'))], now);
    await admin.hset(`${prefix}:{report}:states`, 'off', '{nope');
    const later = new Date(now.getTime() + 1_000);
    const error = await store
      .upsertSchedules([scheduleInput(ref('new')), scheduleInput(ref('off'), { enabled: true })], later)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toContain(`key "${prefix}:{report}:states"`);
    expect(await store.getSchedules([ref('off'), ref('new')])).toEqual([off]);
  });

  it('a definition that is not the JSON this version writes is a StoreSchemaError naming the key', async () => {
    await store.upsertSchedules([scheduleInput(ref('acme'))], now);
    await admin.hset(scheduleKey('acme'), 'definition', '{nope');
    const error = await store.getSchedules([ref('acme')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toContain(`key "${scheduleKey('acme')}"`);
    await admin.hset(scheduleKey('acme'), 'definition', encodeScheduleDefinition({ ...scheduleInput(ref('acme')), enabled: false }));
    await expect(store.getSchedules([ref('acme')])).rejects.toThrow(/enabled field "1" contradicts its definition/);
  });

  it('a key of another type where a schedule hash belongs fails with StoreSchemaError naming it, and nothing is overwritten', async () => {
    await admin.set(scheduleKey('foreign'), 'not ours');
    const expected = `key "${scheduleKey('foreign')}" holds a Redis string, expected a hash`;
    await expect(store.upsertSchedules([scheduleInput(ref('fine')), scheduleInput(ref('foreign'))], now)).rejects.toThrow(expected);
    await expect(store.claimSlots([claimFor(ref('foreign'), now)], { runnerId: 'r', now })).rejects.toThrow(expected);
    await expect(store.requestRun(ref('foreign'), { now })).rejects.toThrow(expected);
    await expect(store.getSchedules([ref('foreign')])).rejects.toThrow(expected);
    await expect(store.removeSchedules([ref('foreign')])).rejects.toThrow(expected);
    expect((await store.listSchedules()).schedules).toEqual([]);
    expect(await store.getStates()).toEqual([]);
    expect(await admin.get(scheduleKey('foreign'))).toBe('not ours');
  });

  it('after Redis lost its data the revision is one no runner saw before, though the counter starts again', async () => {
    await store.upsertSchedules([scheduleInput(ref('a'))], now);
    const before = await store.schedulesRevision();
    await deletePrefix(admin, prefix);
    expect(await store.schedulesRevision()).toBe('0');
    await store.upsertSchedules([scheduleInput(ref('a'))], now);
    const after = await store.schedulesRevision();
    expect(after.split(':')[1]).toBe(before.split(':')[1]);
    expect(after).not.toBe(before);
  });

  it('removing a schedule leaves its claim records and running runs, and no key of it behind otherwise', async () => {
    await store.upsertSchedules([scheduleInput(ref('t'))], now);
    const [claimed] = await store.claimSlots([claimFor(ref('t'), now)], { runnerId: 'r', now });
    expect(claimed?.status).toBe('claimed');
    await store.requestRun(ref('t'), { now });
    await store.removeSchedules([ref('t')]);
    const keys = await keysUnder(admin, prefix);
    expect(keys.filter((key) => key.includes(':schedule:'))).toEqual([]);
    expect(await admin.hexists(`${prefix}:{report}:states`, 't')).toBe(0);
    expect(await admin.hlen(`${prefix}:#:request`)).toBe(0);
    expect(await admin.zcard(`${prefix}:#:requests`)).toBe(0);
    expect(await admin.hlen(`${prefix}:{report}:claims`)).toBe(1);
    expect(await admin.zcard(`${prefix}:#:leases`)).toBe(1);
  });

  it('bad arguments fail with InvalidArgumentError before touching Redis', async () => {
    const offline = createRedisStore({ url: 'redis://127.0.0.1:1', prefix });
    try {
      const bad: [string, () => Promise<unknown>][] = [
        [`getSchedules: refs[0].key (job "report") is ''`, () => offline.getSchedules([ref('')])],
        [
          'removeSchedules: refs holds 1001 items; the limit is 1000',
          () => offline.removeSchedules(Array.from({ length: 1_001 }, (_, i) => ref(`k${i}`))),
        ],
        [
          'pendingRunRequests: options.refs holds 1001 items; the limit is 1000',
          () => offline.pendingRunRequests({ refs: Array.from({ length: 1_001 }, (_, i) => ref(`k${i}`)) }),
        ],
        ['listSchedules: query.cursor', () => offline.listSchedules({ cursor: Buffer.from('["a"]').toString('base64url') })],
        ['listSchedules: query.limit', () => offline.listSchedules({ limit: 1.5 })],
        ['pendingRunRequests: options.limit', () => offline.pendingRunRequests({ limit: 0 })],
        ['scheduleVersion', () => offline.claimSlots([claimFor(ref('k'), now, { scheduleVersion: 0 })], { runnerId: 'r', now })],
        ['upsertSchedules: schedules[0]', () => offline.upsertSchedules([scheduleInput(ref('k', 'nul\u0000code'))], now)],
        ['upsertSchedules: now', () => offline.upsertSchedules([scheduleInput(ref('k'))], new Date(Number.NaN))],
      ];
      for (const [what, call] of bad) {
        const error = await call().catch((e: unknown) => e);
        expect(error, what).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message, what).toContain(what);
      }
    } finally {
      await offline.close();
    }
  });
});
