// A store built on a second installed copy of core (as a host gets when the store package pins
// another copy) throws that copy's error classes, which `instanceof` against this copy's misses:
// core tells an outage worth retrying and a schema error by the registered symbols they carry.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decorateStore } from '../src/decorate-store.js';
import {
  createFakeClock,
  defineJob,
  every,
  exitCodeOf,
  EXIT_CODES,
  isStoreSchemaError,
  isStoreUnavailable,
  runDue,
  StoreUnavailableError,
} from '../src/index.js';
import { runsOf } from './run-fixtures.js';

let dir: string;
let copy: typeof import('../src/index.js');
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tickwork-core-copy-'));
  await cp(fileURLToPath(new URL('../dist', import.meta.url)), join(dir, 'dist'), {
    recursive: true,
    filter: (from) => !from.endsWith('.map'),
  });
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  copy = await import(pathToFileURL(join(dir, 'dist', 'index.js')).href);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T0 = '2026-03-02T12:00:30.000Z';

describe('errors of a second installed copy of core', () => {
  it('are told apart by what they carry: an outage, a schema error, bad input', () => {
    const outage = new copy.StoreUnavailableError('down');
    const schema = new copy.StoreSchemaError('tables missing');
    expect(outage).not.toBeInstanceOf(StoreUnavailableError);
    expect([isStoreUnavailable(outage), isStoreSchemaError(outage), exitCodeOf(outage)]).toEqual([
      true,
      false,
      EXIT_CODES.storeUnavailable,
    ]);
    expect([isStoreUnavailable(schema), isStoreSchemaError(schema), exitCodeOf(schema)]).toEqual([
      false,
      true,
      EXIT_CODES.storeUnavailable,
    ]);
    const input = new copy.InvalidArgumentError('bad');
    expect([isStoreUnavailable(input), isStoreSchemaError(input)]).toEqual([false, false]);
    expect([isStoreUnavailable(new Error('x')), isStoreUnavailable(null), isStoreSchemaError('StoreSchemaError')]).toEqual([
      false,
      false,
      false,
    ]);
  });

  it("a claim whose answer was lost in that copy's outage is retried: the handler runs once", async () => {
    const memory = copy.createMemoryStore();
    let lost = 0;
    const store = decorateStore(memory, {
      after: (answer) => {
        if (answer.operation === 'claimSlots' && lost++ === 0) throw new copy.StoreUnavailableError('[test] claimSlots: answer lost');
      },
    });
    let calls = 0;
    const job = defineJob({ code: 'lost-claim', schedule: every('1m'), interruptedRetries: 0, run: () => void calls++ });
    const report = await runDue({ jobs: [job], store, clock: createFakeClock(T0), runnerId: 'a' });
    expect(report.results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(calls).toBe(1);
    expect((await runsOf(memory, 'lost-claim')).map((r) => [r.status, r.attempt])).toEqual([['succeeded', 1]]);
  });

  it("a completion failing through that copy's outage is retried until it lands", async () => {
    const memory = copy.createMemoryStore();
    let failed = 0;
    const store = decorateStore(memory, {
      before: (operation) => {
        if (operation === 'completeRuns' && failed++ < 2) throw new copy.StoreUnavailableError('[test] completeRuns: store unreachable');
      },
    });
    const job = defineJob({ code: 'once', schedule: every('1m'), run: () => undefined });
    const report = await runDue({ jobs: [job], store, clock: createFakeClock(T0), runnerId: 'a' });
    expect(report.results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(failed).toBe(3);
    expect((await runsOf(memory, 'once')).map((r) => r.status)).toEqual(['succeeded']);
  });
});
