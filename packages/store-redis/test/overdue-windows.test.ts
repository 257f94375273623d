import { StoreSchemaError } from '@tickwork/core';
import { instantAt } from '@tickwork/store-conformance';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { startMonitor } from './monitor.js';
import { adminClient, deletePrefix, randomPrefix, REDIS_URL } from './redis-fixture.js';

/** The commands this store's client sent on keys under `prefix` while `work` ran (not those its scripts issued), seen with MONITOR. */
async function clientCommands(admin: Redis, prefix: string, work: () => Promise<unknown>): Promise<string[][]> {
  const commands: string[][] = [];
  const marker = `${prefix}:monitor-marker`;
  let markerSeen: () => void = () => {};
  const sawMarker = new Promise<void>((resolve) => {
    markerSeen = resolve;
  });
  const monitor = await startMonitor(REDIS_URL, ({ args, source }) => {
    if (args[1] === marker) markerSeen();
    else if (source !== 'lua' && args.some((arg) => arg.includes(prefix))) commands.push(args);
  });
  try {
    await work();
    // MONITOR reports commands in execution order: once the marker shows up, every command of `work` has too.
    await admin.exists(marker);
    await sawMarker;
    return commands;
  } finally {
    monitor.stop();
  }
}

describe('claimOverdue writes the windows it is given', () => {
  let admin: Redis;
  let prefix: string;
  let store: RedisStore;
  const now = instantAt(0);
  const refs = Array.from({ length: 60 }, (_, i) => ({ code: `job-${i}`, key: '' }));
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('overdue');
    store = createRedisStore({ url: REDIS_URL, prefix });
    await store.ensureStates(refs, now);
  });
  afterEach(async () => {
    await store.close();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('in one script call for all the jobs of a node, not one call per job', async () => {
    const windows = refs.map((ref) => ({ ...ref, expectSuccessWithinMs: 60_000 }));
    const commands = await clientCommands(admin, prefix, () => store.claimOverdue({ now, windows, codes: [] }));
    const scripts = commands.filter(([name]) => /^eval/i.test(name ?? ''));
    expect(scripts).toHaveLength(1);
    expect(scripts[0]?.[2]).toBe(String(refs.length));
    expect((await store.getStates(refs)).map((state) => state.expectSuccessWithinMs)).toEqual(refs.map(() => 60_000));
  });

  it('a states hash holding another type fails the call naming it, and no window is written', async () => {
    const foreign = `${prefix}:{job-30}:states`;
    await admin.del(foreign);
    await admin.set(foreign, 'not ours');
    const windows = refs.map((ref) => ({ ...ref, expectSuccessWithinMs: 60_000 }));
    const error = await store.claimOverdue({ now, windows, codes: [] }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toContain(`key "${foreign}" holds a Redis string, expected a hash`);
    expect(await admin.get(foreign)).toBe('not ours');
    const fine = refs.filter((ref) => ref.code !== 'job-30');
    expect((await store.getStates(fine)).map((state) => state.expectSuccessWithinMs)).toEqual(fine.map(() => null));
  });
});
