import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scheduleInput } from '@tickwork/store-conformance';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import { adminClient, deletePrefix, randomPrefix, REDIS_URL } from './redis-fixture.js';

const WORKER = fileURLToPath(new URL('./fixtures/claim-worker.mjs', import.meta.url));
const PROCESSES = 8;
const SLOTS = 500;

type Won = { slot?: string; runId?: string; unexpected?: string }[];

/** Starts one worker; resolves `ready` once it is connected, `done` with what it won after `go()`. */
function startWorker(
  prefix: string,
  seed: number,
  mode: 'plain' | 'limited' = 'plain',
): { ready: Promise<void>; go: () => void; done: Promise<Won> } {
  const child = spawn(process.execPath, [WORKER, REDIS_URL, prefix, String(SLOTS), String(seed), mode], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<Won>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) markReady();
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`claim worker ${seed} exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.slice('ready\n'.length)) as Won);
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), done };
}

describe('claims raced by separate processes', () => {
  let admin: Redis;
  let prefix: string;
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('procs');
  });
  afterEach(async () => {
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it(`${PROCESSES} processes claiming the same ${SLOTS} slots win each slot exactly once`, async () => {
    // The runtime schedules the workers' slots belong to (see fixtures/claim-worker.mjs).
    const setup = createRedisStore({ url: REDIS_URL, prefix });
    try {
      const refs = Array.from({ length: SLOTS }, (_, i) => ({ code: `job-${i % 25}`, key: `k${i}` }));
      await setup.upsertSchedules(
        refs.map((ref) => scheduleInput(ref)),
        new Date('2030-01-07T00:00:00.000Z'),
      );
    } finally {
      await setup.close();
    }
    const workers = Array.from({ length: PROCESSES }, (_, seed) => startWorker(prefix, seed));
    await Promise.race([Promise.all(workers.map((w) => w.ready)), Promise.all(workers.map((w) => w.done))]);
    for (const worker of workers) worker.go();
    const results = await Promise.all(workers.map((w) => w.done));
    const all = results.flat();
    expect(all.filter((entry) => entry.unexpected !== undefined)).toEqual([]);
    const slots = all.map((entry) => entry.slot);
    expect(slots).toHaveLength(SLOTS);
    expect(new Set(slots).size).toBe(SLOTS);
    expect(new Set(all.map((entry) => entry.runId)).size).toBe(SLOTS);
    // More than one process won something: the race was real, not serialised by start-up order.
    expect(results.filter((won) => won.length > 0).length).toBeGreaterThan(1);

    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      let logged = 0;
      let cursor: string | null = null;
      do {
        const page = await store.queryRuns({ status: 'running', limit: 1000, ...(cursor ? { cursor } : {}) });
        logged += page.runs.length;
        cursor = page.nextCursor;
      } while (cursor);
      expect(logged).toBe(SLOTS);
      const states = await store.getStates();
      expect(states.reduce((sum, state) => sum + state.totalRuns, 0)).toBe(SLOTS);
    } finally {
      await store.close();
    }
    // Eight Node processes start and race on a 2-core machine that may be busy: a generous bound.
  }, 120_000);

  it(`${PROCESSES} processes claiming ${SLOTS} slots of 10 jobs limited to maxRuns 5 start exactly 5 runs per job`, async () => {
    const workers = Array.from({ length: PROCESSES }, (_, seed) => startWorker(prefix, seed, 'limited'));
    await Promise.race([Promise.all(workers.map((w) => w.ready)), Promise.all(workers.map((w) => w.done))]);
    for (const worker of workers) worker.go();
    const all = (await Promise.all(workers.map((w) => w.done))).flat();
    expect(all.filter((entry) => entry.unexpected !== undefined)).toEqual([]);
    const slots = all.map((entry) => entry.slot as string);
    expect(new Set(slots).size).toBe(slots.length);
    const perJob = new Map<string, number>();
    for (const slot of slots) perJob.set(slot.split('/')[0] as string, (perJob.get(slot.split('/')[0] as string) ?? 0) + 1);
    expect([...perJob.entries()].sort()).toEqual(Array.from({ length: 10 }, (_, i) => [`lim-${i}`, 5]));
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      expect((await store.queryRuns({ limit: 1000 })).runs).toHaveLength(50);
      expect((await store.getStates()).map((state) => state.scheduledRuns)).toEqual(Array.from({ length: 10 }, () => 5));
    } finally {
      await store.close();
    }
  }, 120_000);
});
