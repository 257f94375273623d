import { InvalidArgumentError, StoreSchemaError, StoreUnavailableError } from '@tickwork/core';
import { Cluster, type Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import { adminClient, deletePrefix, randomPrefix, REDIS_URL } from './redis-fixture.js';

const now = new Date('2030-01-07T00:00:00.000Z');

describe('bad configuration and foreign data', () => {
  let admin: Redis;
  let prefix: string;
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('bad');
  });
  afterEach(async () => {
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('an unreachable Redis fails with StoreUnavailableError naming host, port and how to start Redis', async () => {
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', prefix, commandTimeoutMs: 1_000 });
    try {
      const error = await store.ensureStates([{ code: 'job', key: '' }], now).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toMatch(/^\[tickwork\] \[store-redis\] ensureStates: cannot reach Redis at 127\.0\.0\.1:1/);
      expect((error as Error).message).toContain('start the Redis server');
      expect((error as Error).message).not.toMatch(/\/var\/|--daemonize/);
    } finally {
      await store.close();
    }
  });

  it('credentials the server refuses fail with a clear StoreUnavailableError', async () => {
    const store = createRedisStore({ url: 'redis://tickwork-nobody:wrong-password@127.0.0.1:6379', prefix, commandTimeoutMs: 1_000 });
    try {
      const error = await store.ping().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toMatch(/refused the credentials .*WRONGPASS/);
      expect((error as Error).message).toContain('127.0.0.1:6379');
    } finally {
      await store.close();
    }
  });

  it('rejects prefixes with glob, hash-tag or whitespace characters, unknown options, and a Cluster client without the Cluster layout', () => {
    for (const bad of ['a*b', 'a?b', 'a[b', 'a]b', 'a{b', 'a}b', 'a b', 'a\tb', '']) {
      expect(() => createRedisStore({ prefix: bad }), bad).toThrow(InvalidArgumentError);
    }
    expect(() => createRedisStore({ prefix: 'a b' })).toThrow(/prefix "a b" is invalid/);
    expect(() => createRedisStore({ prefx: 'x' } as never)).toThrow(/unknown option "prefx"/);
    expect(() => createRedisStore({ url: 'http://localhost' })).toThrow(InvalidArgumentError);
    expect(() => createRedisStore({ commandTimeoutMs: 0 })).toThrow(InvalidArgumentError);
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    try {
      // A Cluster client picks the Cluster layout by itself; the single-node layout would span slots, so it is refused.
      expect(createRedisStore({ redis: cluster }).capabilities.runnerPresence).toBe('heartbeat');
      expect(() => createRedisStore({ redis: cluster, cluster: false })).toThrow(/redis is a Cluster client but cluster is false/);
      expect(() => createRedisStore({ redis: cluster, cluster: 'yes' as never })).toThrow(/cluster must be a boolean, got yes/);
    } finally {
      cluster.disconnect();
    }
  });

  it('rejects a replicas option that is not a count ≥ 0 with a positive timeout below commandTimeoutMs, naming the field', () => {
    const replicas =
      (value: unknown, extra: object = {}) =>
      () =>
        createRedisStore({ replicas: value as never, ...extra });
    expect(replicas(1.5)).toThrow(/replicas must be an object \{ count, timeoutMs\? \}, got 1\.5/);
    expect(replicas(null)).toThrow(/replicas must be an object/);
    expect(replicas({ count: 1.5 })).toThrow(/replicas\.count must be an integer ≥ 0 .*got 1\.5/);
    expect(replicas({ count: -1 })).toThrow(/replicas\.count must be an integer ≥ 0 .*got -1/);
    expect(replicas({ count: '1' })).toThrow(/replicas\.count must be an integer/);
    expect(replicas({ count: 1, timeoutMs: 0 })).toThrow(/replicas\.timeoutMs must be a positive integer .*got 0/);
    expect(replicas({ count: 1, timeoutMs: -5 })).toThrow(/replicas\.timeoutMs must be a positive integer .*got -5/);
    expect(replicas({ count: 1, timeoutMs: 2.5 })).toThrow(/replicas\.timeoutMs must be a positive integer/);
    expect(replicas({ count: 1, timeoutMs: 5_000 })).toThrow(/replicas\.timeoutMs \(5000\) must be below commandTimeoutMs \(5000\)/);
    expect(replicas({ count: 1 }, { commandTimeoutMs: 800 })).toThrow(
      /replicas\.timeoutMs \(1000\) must be below commandTimeoutMs \(800\)/,
    );
    expect(replicas({ count: 1, timeout: 5 })).toThrow(/replicas: unknown field "timeout"; known: count, timeoutMs/);
    for (const fine of [{ count: 0 }, { count: 2, timeoutMs: 4_999 }]) expect(replicas(fine)).not.toThrow();
    for (const error of [replicas(-1), replicas({ count: -1 }), replicas({ count: 1, timeoutMs: 0 })])
      expect(error).toThrow(InvalidArgumentError);
  });

  it('a per-job key holding another type fails with StoreSchemaError naming it, and nothing is overwritten', async () => {
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      await store.ensureStates([{ code: 'fine', key: '' }], now);
      const foreign = `${prefix}:{report}:states`;
      await admin.set(foreign, 'not ours');
      const error = await store
        .ensureStates(
          [
            { code: 'other', key: '' },
            { code: 'report', key: '' },
          ],
          now,
        )
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect((error as Error).message).toContain(`key "${foreign}" holds a Redis string, expected a hash`);
      expect(await admin.get(foreign)).toBe('not ours');
      // The batch was refused as a whole: the valid item before the bad one was not created either.
      expect((await store.getStates()).map((state) => state.code)).toEqual(['fine']);
      await expect(store.getStates([{ code: 'report', key: '' }])).rejects.toThrow(foreign);
      const claim = {
        code: 'report',
        key: '',
        slotAt: now,
        attempt: 1,
        trigger: 'schedule' as const,
        overlap: 'skip' as const,
        leaseMs: 1_000,
      };
      await expect(store.claimSlots([claim], { runnerId: 'r', now })).rejects.toBeInstanceOf(StoreSchemaError);
      expect(await admin.get(foreign)).toBe('not ours');
    } finally {
      await store.close();
    }
  });

  it('a global key holding another type fails with StoreSchemaError naming it', async () => {
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      const codes = `${prefix}:#:codes`;
      await admin.rpush(codes, 'x');
      const error = await store.getStates().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect((error as Error).message).toContain(codes);
      await expect(store.requestRun({ code: 'job', key: '' }, { now })).rejects.toThrow(
        `key "${codes}" holds a Redis list, expected a set`,
      );
      expect(await admin.lrange(codes, 0, -1)).toEqual(['x']);
    } finally {
      await store.close();
    }
  });

  it('a stored value that is not JSON fails reads with StoreSchemaError naming the key, and is left as it is', async () => {
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      await store.ensureStates([{ code: 'report', key: '' }], now);
      const states = `${prefix}:{report}:states`;
      await admin.hset(states, '', '{not json');
      const error = await store.getStates([{ code: 'report', key: '' }]).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect((error as Error).message).toContain(`key "${states}" holds a value that is not the JSON this version writes`);
      await expect(store.getStates()).rejects.toThrow(StoreSchemaError);
      expect(await admin.hget(states, '')).toBe('{not json');
    } finally {
      await store.close();
    }
  });

  it('bad call arguments fail with InvalidArgumentError before touching Redis', async () => {
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', prefix });
    try {
      await expect(store.queryRuns({ status: 'done' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.queryRuns({ since: new Date('nope') })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.pruneRuns({ olderThan: now, batchSize: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(
        store.renewLeases([{ code: 'a', key: '', runId: 'forged', token: 1, runnerId: 'r', expiresAt: now, cancelRequested: false }], {
          now,
          leaseMs: 1_000,
        }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.claimSlots([], { runnerId: '', now })).rejects.toBeInstanceOf(InvalidArgumentError);
    } finally {
      await store.close();
    }
  });
});
