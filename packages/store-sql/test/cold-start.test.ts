import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreFixture } from '@tickwork/store-conformance';
import { pgFixture, pgOptions, sqliteFixture } from './fixtures.js';

const DIST = new URL('../dist/index.js', import.meta.url).pathname;

/**
 * Runs `body` in a fresh node process after importing the built package, and returns which
 * heavy packages ended up loaded (CommonJS modules, which pg, libsql and MikroORM are, land in require.cache).
 */
function loadedAfter(body: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    const { createSqlStore } = await import(${JSON.stringify(DIST)});
    ${body}
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const heavy = ['@mikro-orm', 'knex', '/pg/', '/libsql/'].filter((name) => cache.some((path) => path.includes(name)));
    console.log(JSON.stringify(heavy));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('cold start: importing and using the store loads neither MikroORM nor the other driver', () => {
  let fixture: StoreFixture | undefined;
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
  });

  it('importing the package loads no driver and no ORM', () => {
    expect(loadedAfter('void createSqlStore;')).toEqual([]);
  });

  it('an SQLite store loads libsql only', async () => {
    const lite = await sqliteFixture();
    fixture = lite;
    const body = `const store = createSqlStore({ driver: 'sqlite', dbName: ${JSON.stringify(lite.file)} });
      await store.getStates(); await store.close();`;
    expect(loadedAfter(body)).toEqual(['/libsql/']);
  });

  it('a PostgreSQL store loads pg only', async () => {
    const pg = await pgFixture();
    fixture = pg;
    const body = `const store = createSqlStore(${JSON.stringify(pgOptions(pg.schema))});
      await store.getStates(); await store.close();`;
    expect(loadedAfter(body)).toEqual(['/pg/']);
  });

  it("a PostgreSQL store does not load Node's fetch (undici), and leaves the global Response as it was", async () => {
    const pg = await pgFixture();
    fixture = pg;
    // pg's Cloudflare check touches the global Response as pg loads; on Node 20 that loads undici.
    const script = `
      const { createSqlStore } = await import(${JSON.stringify(DIST)});
      const before = Object.getOwnPropertyDescriptor(globalThis, 'Response');
      const store = createSqlStore(${JSON.stringify(pgOptions(pg.schema))});
      await store.getStates();
      const undici = process.moduleLoadList.some((name) => name.includes('undici'));
      const after = Object.getOwnPropertyDescriptor(globalThis, 'Response');
      const same = before === undefined ? after === undefined : after.get === before.get && after.set === before.set && after.enumerable === before.enumerable && after.configurable === before.configurable;
      const works = (await new Response('ok').text()) === 'ok';
      await store.close();
      console.log(JSON.stringify({ undici, same, works }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as unknown;
    expect(out).toEqual({ undici: false, same: true, works: true });
  });
});
