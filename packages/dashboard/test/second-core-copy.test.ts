import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from './support.js';

// A store built on a second installed copy of core (as a host gets when the store package pins
// another copy) throws that copy's error classes: the dashboard answers them by the exit code they
// carry, as it answers its own copy's.
let dir: string;
let core: typeof import('@tickwork/core');
let coreStore: typeof import('@tickwork/core/store');
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tickwork-core-copy-'));
  await cp(dirname(fileURLToPath(import.meta.resolve('@tickwork/core'))), join(dir, 'dist'), {
    recursive: true,
    filter: (from) => !from.endsWith('.map'),
  });
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  core = await import(pathToFileURL(join(dir, 'dist', 'index.js')).href);
  coreStore = await import(pathToFileURL(join(dir, 'dist', 'entry', 'store.js')).href);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a store on another copy of core: its errors answered by their exit code, not by core's classes", () => {
  it('a refused cursor is a 400 naming it, an unreachable store a 503', async () => {
    let down = false;
    const store = coreStore.decorateStore(core.createMemoryStore(), {
      before: (operation) => {
        if (down && operation === 'queryRuns')
          throw new core.StoreUnavailableError('[tickwork] [store-x] queryRuns: cannot reach the server');
      },
    });
    const h = await startHarness({ store });
    try {
      const admin = await h.client('admin');
      expect(await admin.json('GET', 'api/jobs/cleanup/runs?cursor=garbage')).toMatchObject({ status: 400, body: { field: 'cursor' } });
      expect(await admin.json('GET', 'api/jobs/reports.daily/schedules?cursor=garbage')).toMatchObject({
        status: 400,
        body: { field: 'cursor' },
      });
      down = true;
      const unreachable = await admin.json('GET', 'api/jobs/cleanup/runs');
      expect(unreachable.status).toBe(503);
      expect(unreachable.body.message).toContain('cannot reach the server');
    } finally {
      await h.close();
    }
  });
});
