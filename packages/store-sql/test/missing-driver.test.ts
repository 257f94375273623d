import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const PACKAGE = new URL('..', import.meta.url).pathname;
const CORE = new URL('../../core', import.meta.url).pathname;

/**
 * An app whose node_modules holds the built store and core but no MikroORM driver package,
 * as after `npm install @tickwork/store-sql` alone (the drivers are optional peers).
 */
const app = mkdtempSync(join(tmpdir(), 'tickwork-nodriver-'));
mkdirSync(join(app, 'node_modules', '@tickwork', 'store-sql'), { recursive: true });
cpSync(join(PACKAGE, 'dist'), join(app, 'node_modules', '@tickwork', 'store-sql', 'dist'), { recursive: true });
cpSync(join(PACKAGE, 'package.json'), join(app, 'node_modules', '@tickwork', 'store-sql', 'package.json'));
symlinkSync(CORE, join(app, 'node_modules', '@tickwork', 'core'), 'dir');

function createIn(options: object): { name: string; message: string } {
  const script = `import { createSqlStore } from '@tickwork/store-sql';
    try { createSqlStore(${JSON.stringify(options)}); console.log(JSON.stringify({ name: 'none', message: 'created' })); }
    catch (e) { console.log(JSON.stringify({ name: e.constructor.name, message: e.message })); }`;
  // Without NODE_PATH: pnpm's bin shims point it at the workspace's hoisted packages, where the drivers are.
  const { NODE_PATH: _, ...env } = process.env;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env, encoding: 'utf8' })) as {
    name: string;
    message: string;
  };
}

describe('a missing driver package fails at store creation, naming the package to install', () => {
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('SQLite without @mikro-orm/libsql', () => {
    expect(createIn({ driver: 'sqlite', dbName: join(app, 'x.db') })).toEqual({
      name: 'SqlStoreOptionsError',
      message:
        '[tickwork] [store-sql] driver "sqlite" needs the package @mikro-orm/libsql (it brings libsql), which is not installed: run `npm install @mikro-orm/libsql@6.6.16`',
    });
  });

  it('PostgreSQL without @mikro-orm/postgresql', () => {
    expect(createIn({ driver: 'postgresql', clientUrl: 'postgres://u@127.0.0.1:5432/db' })).toEqual({
      name: 'SqlStoreOptionsError',
      message:
        '[tickwork] [store-sql] driver "postgresql" needs the package @mikro-orm/postgresql (it brings pg), which is not installed: run `npm install @mikro-orm/postgresql@6.6.16`',
    });
  });
});
