import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreFixture } from '@tickwork/store-conformance';
import { withGlibcAnswer } from '../src/connection/sqlite.js';
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

  it.runIf(process.platform === 'linux')(
    'an SQLite store opens without a diagnostic report (libsql asks it only whether the C library is glibc)',
    async () => {
      const lite = await sqliteFixture();
      fixture = lite;
      // The real report object is watched: libsql's loader called its getReport() on every open before.
      const script = `
        const { createSqlStore } = await import(${JSON.stringify(DIST)});
        const report = process.report;
        let reports = 0;
        const real = report.getReport.bind(report);
        report.getReport = (...args) => { reports += 1; return real(...args); };
        const store = createSqlStore({ driver: 'sqlite', dbName: ${JSON.stringify(lite.file)} });
        const states = await store.getStates();
        await store.close();
        console.log(JSON.stringify({ reports, same: process.report === report, states: states.length }));`;
      const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as unknown;
      expect(out).toEqual({ reports: 0, same: true, states: 0 });
    },
  );

  it('the glibc answer stands in only for a map that plainly shows glibc, once, and puts process.report back', () => {
    const report = process.report;
    const seen: string[] = [];
    const load = () => {
      const header = process.report.getReport() as { header?: Record<string, unknown> };
      seen.push('glibcVersionRuntime' in (header.header ?? {}) ? 'glibc' : 'other');
      return (process.report.getReport() as { header?: object }).header !== undefined;
    };
    const glibcMap = '7f00-7f01 r--p 00000000 fe:00 1  /usr/lib/x86_64-linux-gnu/libc.so.6\n';
    const muslMap = '7f00-7f01 r--p 00000000 fe:00 1  /lib/ld-musl-x86_64.so.1\n';
    if (process.platform === 'linux') {
      expect(withGlibcAnswer(load, () => glibcMap)).toBe(true);
      expect(seen).toEqual(['glibc']);
    }
    // musl, an unreadable map: the real report answers every call.
    const calls: unknown[] = [];
    const realGet = report.getReport;
    report.getReport = (...args: Parameters<typeof realGet>) => {
      calls.push(args);
      return { header: {} } as ReturnType<typeof realGet>;
    };
    try {
      withGlibcAnswer(load, () => muslMap);
      withGlibcAnswer(load, () => {
        throw new Error('no /proc');
      });
    } finally {
      report.getReport = realGet;
    }
    expect(calls.length).toBe(4);
    expect(process.report).toBe(report);
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
