import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreFixture } from '@tickwork/store-conformance';
import type { SqlStoreOptions } from '../src/index.js';
import { pgFixture, pgOptions, sqliteFixture } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./race-child.mjs', import.meta.url));
const PROCESSES = 8;
const SLOTS = 500;

interface ChildResult {
  /** `code@slot` of each won claim. */
  claimed: string[];
  taken: number;
  ended: number;
}

/** Starts one claimant process; resolves `ready` once its store answered, and `result` when it is done. */
function startChild(options: SqlStoreOptions, index: number, mode: 'plain' | 'limited') {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(options), `runner-${index}`, String(SLOTS), String(index), mode], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`claimant ${index} exited with ${code}: ${err}`));
      resolve(JSON.parse(out.split('\n')[1] ?? '') as ChildResult);
    });
  });
  return { ready, result, go: () => child.stdin.end('go\n') };
}

async function race(options: SqlStoreOptions, mode: 'plain' | 'limited' = 'plain'): Promise<ChildResult[]> {
  const children = Array.from({ length: PROCESSES }, (_, i) => startChild(options, i, mode));
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  return Promise.all(children.map((c) => c.result));
}

function expectEachSlotWonOnce(results: ChildResult[]): void {
  const wins = new Map<string, number>();
  for (const r of results) for (const code of r.claimed) wins.set(code, (wins.get(code) ?? 0) + 1);
  expect(wins.size).toBe(SLOTS);
  expect([...wins.values()].every((n) => n === 1)).toBe(true);
  for (const r of results) expect(r.claimed.length + r.taken).toBe(SLOTS);
}

/** Limited mode: 10 jobs with maxRuns 5 share the slots, so exactly 5 runs start per job, 50 in all. */
async function expectLimitedRuns(results: ChildResult[], open: () => Promise<import('@tickwork/core').Store>): Promise<void> {
  const wins = results.flatMap((r) => r.claimed);
  expect(new Set(wins).size).toBe(wins.length);
  const perJob = new Map<string, number>();
  for (const win of wins) perJob.set(win.split('@')[0] as string, (perJob.get(win.split('@')[0] as string) ?? 0) + 1);
  expect([...perJob.values()]).toEqual(Array.from({ length: 10 }, () => 5));
  for (const r of results) expect(r.claimed.length + r.taken + r.ended).toBe(SLOTS);
  const store = await open();
  expect((await store.queryRuns({ limit: 1000 })).runs).toHaveLength(50);
  const states = await store.getStates();
  expect(states.map((s) => s.scheduledRuns)).toEqual(Array.from({ length: 10 }, () => 5));
  await store.close();
}

describe(`${PROCESSES} processes claiming the same ${SLOTS} slots`, () => {
  let fixture: StoreFixture | undefined;
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
  });

  it('on PostgreSQL, each slot is won by exactly one process and logged once', async () => {
    const pg = await pgFixture();
    fixture = pg;
    const results = await race(pgOptions(pg.schema));
    expectEachSlotWonOnce(results);
    const store = await pg.open();
    const page = await store.queryRuns({ limit: 1000 });
    expect(page.runs).toHaveLength(SLOTS);
    expect(new Set(page.runs.map((r) => r.code)).size).toBe(SLOTS);
    await store.close();
  });

  it('on one shared SQLite file, each slot is won by exactly one process and logged once', async () => {
    const lite = await sqliteFixture();
    fixture = lite;
    const results = await race({ driver: 'sqlite', dbName: lite.file, busyTimeoutMs: 20_000 });
    expectEachSlotWonOnce(results);
    const store = await lite.open();
    const page = await store.queryRuns({ limit: 1000 });
    expect(page.runs).toHaveLength(SLOTS);
    expect(new Set(page.runs.map((r) => r.code)).size).toBe(SLOTS);
    await store.close();
  });

  it('on PostgreSQL, 10 jobs limited to maxRuns 5 start exactly 5 runs each, whatever the races', async () => {
    const pg = await pgFixture();
    fixture = pg;
    await expectLimitedRuns(await race(pgOptions(pg.schema), 'limited'), () => pg.open());
  }, 120_000);

  it('on one shared SQLite file, 10 jobs limited to maxRuns 5 start exactly 5 runs each, whatever the races', async () => {
    const lite = await sqliteFixture();
    fixture = lite;
    await expectLimitedRuns(await race({ driver: 'sqlite', dbName: lite.file, busyTimeoutMs: 20_000 }, 'limited'), () => lite.open());
  }, 120_000);
});
