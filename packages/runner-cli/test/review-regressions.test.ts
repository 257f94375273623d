import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createMemoryStore,
  defineConfig,
  InvalidArgumentError,
  isTickworkError,
  StoreUnavailableError,
  TickworkError,
  type Store,
  type TickworkConfig,
} from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeOf, runCli } from '../src/index.js';
import { captureIo } from './fixtures/capture.js';

async function cli(config: TickworkConfig, argv: string[]) {
  const io = captureIo({ TICKWORK_NOW: '2026-01-05T10:00:05Z' });
  const code = await runCli(argv, { io, config });
  return { code, out: io.out(), err: io.errText() };
}

describe('review regressions', () => {
  it("maps a package's subclass of a usage or store error like its base", () => {
    class SqlStoreOptionsError extends InvalidArgumentError {}
    class FlakyBackendError extends StoreUnavailableError {}
    expect(exitCodeOf(new SqlStoreOptionsError('bad driver'))).toBe(EXIT.usage);
    expect(exitCodeOf(new FlakyBackendError('down'))).toBe(EXIT.storeUnavailable);
    expect(exitCodeOf(new Error('job blew up'))).toBe(EXIT.jobFailed);
  });

  it('maps the errors of a second installed copy of core by the exit code they carry, not by class identity', async () => {
    // A second copy of core's build, as a host gets when two packages pin different copies.
    const dir = await mkdtemp(join(tmpdir(), 'tickwork-core-copy-'));
    try {
      await cp(dirname(fileURLToPath(import.meta.resolve('@tickwork/core'))), join(dir, 'dist'), {
        recursive: true,
        filter: (from) => !from.endsWith('.map'),
      });
      await writeFile(join(dir, 'package.json'), '{"type":"module"}');
      const copy = (await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)) as typeof import('@tickwork/core');
      expect(copy.StoreSchemaError).not.toBe(StoreUnavailableError);
      expect(new copy.StoreSchemaError('x')).not.toBeInstanceOf(TickworkError);
      expect(exitCodeOf(new copy.StoreSchemaError('tables missing'))).toBe(EXIT.storeUnavailable);
      expect(exitCodeOf(new copy.InvalidScheduleError('bad cron'))).toBe(EXIT.usage);
      expect(exitCodeOf(new copy.StaleLeaseError('taken over'))).toBe(EXIT.jobFailed);
      expect(isTickworkError(new copy.TickworkError('x'))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trigger refuses a disabled job and files nothing; for a paused job it says the run waits for resume', async () => {
    const store = createMemoryStore();
    const config = defineConfig({
      jobs: [
        { code: 'off', schedule: '0 3 * * *', enabled: false, run: () => undefined },
        { code: 'held', schedule: '0 3 * * *', run: () => undefined },
      ],
      store,
    });
    const off = await cli(config, ['trigger', 'off']);
    expect(off.code).toBe(EXIT.usage);
    expect(off.err).toContain('job "off" is disabled in code');
    expect(await store.pendingRunRequests()).toEqual([]);
    expect((await cli(config, ['pause', 'held'])).code).toBe(0);
    const held = await cli(config, ['trigger', 'held']);
    expect(held.code).toBe(0);
    expect(held.out).toContain('the job is paused, so it runs after `tickwork resume held`');
  });

  it('run ticks on the store clock: a host whose own clock is an hour behind still starts runs at store time', async () => {
    const memory = createMemoryStore();
    const aheadMs = 3_600_000;
    const store: Store = { ...memory, ping: async () => ({ latencyMs: 0, serverTime: new Date(Date.now() + aheadMs) }) };
    const config = defineConfig({ jobs: [{ code: 'now', schedule: '0 3 1 1 *', run: () => undefined }], store });
    await store.requestRun({ code: 'now', key: '' }, { now: new Date() });
    const io = captureIo({});
    expect(await runCli(['run', 'now'], { io, config })).toBe(0);
    const [run] = (await memory.queryRuns()).runs;
    expect(run?.status).toBe('succeeded');
    // Started at store time (an hour ahead of this machine), within a generous margin for a slow machine.
    expect(Math.abs((run?.startedAt.getTime() ?? 0) - (Date.now() + aheadMs))).toBeLessThan(60_000);
  });

  it('leaves open a store object the embedding host passed in', async () => {
    const store = createMemoryStore();
    const config = defineConfig({ jobs: [{ code: 'a', schedule: '0 3 * * *', run: () => undefined }], store });
    expect((await cli(config, ['list', '--json'])).code).toBe(0);
    await expect(store.getStates()).resolves.toBeInstanceOf(Array);
  });
});

describe('logs --follow (spawned bin)', () => {
  it('keeps following until SIGINT instead of exiting when the store goes idle', async () => {
    const { createProject } = await import('./fixtures/project.js');
    const project = createProject('sqlite', `[{ code: 'a', schedule: every('1m'), run: record('a') }]`);
    try {
      expect((await project.run(['migrate'])).code).toBe(0);
      expect((await project.run(['run', 'a', '--force'])).code).toBe(0);
      const follow = project.start(['logs', '--follow']);
      // Following once it printed the run there is (its SIGINT handler is set in the same tick): a SIGINT sent while the
      // process was still loading killed it by default (signal, no exit code) on a busy machine.
      let printed = '';
      follow.child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      let exited = false;
      void follow.result.then(() => (exited = true));
      const following = (async () => {
        while (!exited && !/\ba\b/.test(printed)) await new Promise((resolve) => setTimeout(resolve, 50));
        return 'following';
      })();
      expect(await Promise.race([follow.result, following])).toBe('following');
      const early = await Promise.race([follow.result, new Promise((resolve) => setTimeout(resolve, 1_500, 'still following'))]);
      expect(early).toBe('still following');
      follow.child.kill('SIGINT');
      const done = await follow.result;
      expect(done.code === 0 || done.code === 130).toBe(true);
    } finally {
      project.remove();
    }
  });
});
