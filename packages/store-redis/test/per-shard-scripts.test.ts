import { StoreSchemaError } from '@tickwork/core';
import { instantAt } from '@tickwork/store-conformance';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { clientCommands } from './monitor.js';
import { adminClient, deletePrefix, randomPrefix, REDIS_URL } from './redis-fixture.js';

/** The scripts (EVAL, EVALSHA) among these commands. */
const scripts = (commands: string[][]) => commands.filter(([name]) => /^eval/i.test(name ?? ''));

describe('calls over many jobs are one script per shard, not one command per job', () => {
  let admin: Redis;
  let prefix: string;
  let store: RedisStore;
  const now = instantAt(0);
  const refs = Array.from({ length: 60 }, (_, i) => ({ code: `job-${i}`, key: '' }));
  const windows = refs.map((ref) => ({ ...ref, expectSuccessWithinMs: 60_000 }));
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('pershard');
    store = createRedisStore({ url: REDIS_URL, prefix });
    await store.ensureStates(refs, now);
  });
  afterEach(async () => {
    await store.close();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('claimOverdue writes the windows of all the jobs of a node in one script call', async () => {
    const commands = await clientCommands(admin, REDIS_URL, prefix, () => store.claimOverdue({ now, windows, codes: [] }));
    expect(scripts(commands)).toHaveLength(1);
    expect(scripts(commands)[0]?.[2]).toBe(String(refs.length));
    expect((await store.getStates(refs)).map((state) => state.expectSuccessWithinMs)).toEqual(refs.map(() => 60_000));
  });

  it('claimOverdue: a states hash holding another type fails the call naming it, and no window is written', async () => {
    const foreign = `${prefix}:{job-30}:states`;
    await admin.del(foreign);
    await admin.set(foreign, 'not ours');
    const error = await store.claimOverdue({ now, windows, codes: [] }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toContain(`key "${foreign}" holds a Redis string, expected a hash`);
    expect(await admin.get(foreign)).toBe('not ours');
    const fine = refs.filter((ref) => ref.code !== 'job-30');
    expect((await store.getStates(fine)).map((state) => state.expectSuccessWithinMs)).toEqual(fine.map(() => null));
  });

  it('getStates by refs reads the states of all the jobs of a node in one script call, in the order asked', async () => {
    const asked = [refs[7], { code: 'absent', key: '' }, refs[3], refs[7], ...refs.slice(10)].filter((ref) => ref !== undefined);
    const answered: string[] = [];
    const commands = await clientCommands(admin, REDIS_URL, prefix, async () => {
      for (const state of await store.getStates(asked)) answered.push(state.code);
    });
    expect(scripts(commands)).toHaveLength(1);
    expect(commands.filter(([name]) => /^hget$/i.test(name ?? ''))).toEqual([]);
    expect(answered).toEqual(asked.filter((ref) => ref.code !== 'absent').map((ref) => ref.code));
  });
});
