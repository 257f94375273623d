/**
 * The packages as a user gets them: `pnpm pack` every publishable package, install the
 * tarballs with plain npm into a scratch app outside the workspace (a temp directory),
 * define a job in its `tickwork.config.ts`, then run `tickwork migrate`, `run`, `list`,
 * `logs`, and a daemon that runs the job, on SQLite and on PostgreSQL (a schema of its own).
 * npm installs from its cache when it can (`--prefer-offline`), so a registry hiccup does
 * not fail the test once the cache holds the dependencies.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../..', import.meta.url).pathname;
const PNPM = join(ROOT, 'node_modules', '.bin', 'pnpm');
const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MIKRO_ORM = '6.6.16';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const publishable = readdirSync(join(ROOT, 'packages'))
  .map((dir) => ({
    dir: join(ROOT, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest,
  }))
  .filter((p) => !p.manifest.private);

/** The environment of a user's shell: none of pnpm's or vitest's variables (NODE_PATH would reach the workspace's packages). */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      key === 'NODE_PATH' ||
      key === 'NODE_OPTIONS' ||
      key === 'VITEST' ||
      key.startsWith('VITEST_') ||
      key.startsWith('npm_') ||
      key.startsWith('PNPM_')
    )
      continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

// A daily slot 12 hours away, so no scheduled run comes due while the test runs: with every('1h') a
// daemon started across hh:00 also ran the hh:00 slot beside the run-now request, and the test failed.
const QUIET_HOUR = (new Date().getUTCHours() + 12) % 24;

const CONFIG = `import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob } from '@tickwork/core';
import { createSqlStore } from '@tickwork/store-sql';

const hello = defineJob({
  code: 'pack.hello',
  schedule: '0 ${QUIET_HOUR} * * *',
  timezone: 'UTC',
  async run(ctx) {
    appendFileSync(process.env.PACK_MARKER as string, ctx.trigger + '\\n');
    ctx.report('hello from the packed app (' + ctx.trigger + ')');
  },
});

export default defineConfig({
  jobs: [hello],
  store: () =>
    process.env.PACK_STORE === 'postgresql'
      ? createSqlStore({ driver: 'postgresql', clientUrl: process.env.TICKWORK_PG_URL as string, schema: process.env.PACK_SCHEMA as string })
      : createSqlStore({ driver: 'sqlite', dbName: process.env.PACK_SQLITE as string }),
});
`;

let work = '';
let app = '';
const tarballs = new Map<string, string>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tickwork-pack-'));
  app = join(work, 'app');
  const packed = join(work, 'tarballs');
  mkdirSync(app);
  mkdirSync(packed);
  for (const p of publishable) {
    const { stdout } = await run(PNPM, ['pack', '--pack-destination', packed], { cwd: p.dir, env: userEnv() });
    const file = stdout.trim().split('\n').pop() as string;
    tarballs.set(p.manifest.name, file);
  }
  const dependencies: Record<string, string> = { '@mikro-orm/libsql': MIKRO_ORM, '@mikro-orm/postgresql': MIKRO_ORM };
  for (const [name, file] of tarballs) dependencies[name] = `file:${file}`;
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-app', private: true, type: 'module', dependencies }, null, 2));
  writeFileSync(join(app, 'tickwork.config.ts'), CONFIG);
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    env: userEnv(),
    maxBuffer: 16 << 20,
  });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('every publishable package packs its dist, README and LICENSE, with workspace ranges replaced by versions', async () => {
    expect([...tarballs.keys()].sort()).toEqual(publishable.map((p) => p.manifest.name).sort());
    for (const [name, file] of tarballs) {
      const { stdout } = await run('tar', ['-tzf', file]);
      const entries = stdout.split('\n');
      expect(entries, name).toContain('package/LICENSE');
      expect(entries, name).toContain('package/README.md');
      expect(entries, name).toContain('package/dist/index.js');
      expect(
        entries.filter((e) => /^package\/(src|test|bench)\//.test(e)),
        name,
      ).toEqual([]);
      const { stdout: manifestText } = await run('tar', ['-xzOf', file, 'package/package.json']);
      const manifest = JSON.parse(manifestText) as Manifest;
      const ranges = { ...manifest.dependencies, ...manifest.peerDependencies };
      expect(
        Object.entries(ranges).filter(([, range]) => range.startsWith('workspace:')),
        name,
      ).toEqual([]);
      expect(readFileSync(join(app, 'node_modules', ...name.split('/'), 'README.md'), 'utf8'), name).toMatch(
        /^# \S+\n\n```sh\nnpm install /,
      );
    }
  });

  it('install no SQLite driver that needs compiling: no sqlite3 or better-sqlite3 in the app', () => {
    expect(existsSync(join(app, 'node_modules', 'libsql'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'sqlite3'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'better-sqlite3'))).toBe(false);
  });
});

describe.each(['sqlite', 'postgresql'] as const)('a scratch app with tickwork.config.ts on %s', (store) => {
  const schema = `tw_pack_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  let env: NodeJS.ProcessEnv = {};
  let marker = '';

  beforeAll(() => {
    marker = join(work, `${store}.marker`);
    env = userEnv({
      PACK_STORE: store,
      PACK_SCHEMA: schema,
      PACK_SQLITE: join(work, 'tickwork.sqlite'),
      PACK_MARKER: marker,
      TICKWORK_PG_URL: PG_URL,
    });
  });

  afterAll(async () => {
    if (store !== 'postgresql' || !app) return;
    // The app's own pg (from @mikro-orm/postgresql) drops the schema.
    interface PgClient {
      connect(): Promise<void>;
      query(sql: string): Promise<unknown>;
      end(): Promise<void>;
    }
    const pg = createRequire(join(app, 'package.json'))('pg') as { Client: new (options: { connectionString: string }) => PgClient };
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  const tickwork = async (...args: string[]) => {
    const { stdout } = await run(join(app, 'node_modules', '.bin', 'tickwork'), args, { cwd: app, env });
    return stdout;
  };
  const triggers = () => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []);

  it('tickwork migrate, run --force, list, logs', async () => {
    expect(await tickwork('migrate')).toMatch(/Migration20261123000000_tickwork_init/);
    await tickwork('run', 'pack.hello', '--force');
    expect(triggers()).toEqual(['force']);
    const list = JSON.parse(await tickwork('list', '--json')) as {
      jobs: { code: string; lastStatus?: string; lastRun?: { status: string } }[];
    };
    expect(list.jobs.map((j) => j.code)).toEqual(['pack.hello']);
    expect(await tickwork('list')).toMatch(/pack\.hello/);
    const logs = JSON.parse(await tickwork('logs', 'pack.hello', '--json')) as {
      runs: { trigger: string; status: string; message: string }[];
    };
    expect(logs.runs.map((r) => [r.trigger, r.status, r.message])).toEqual([['force', 'succeeded', 'hello from the packed app (force)']]);
  });

  it('tickwork daemon runs the job (a run-now request), and stops on SIGTERM', async () => {
    await tickwork('trigger', 'pack.hello');
    const daemon = spawn(join(app, 'node_modules', '.bin', 'tickwork'), ['daemon'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    daemon.stdout.on('data', (chunk) => (output += chunk));
    daemon.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
    try {
      for (let waited = 0; triggers().length < 2 && waited < 90_000; waited += 200) {
        if (daemon.exitCode !== null) throw new Error(`the daemon exited (${daemon.exitCode}):\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(triggers(), output).toEqual(['force', 'manual']);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
    const logs = JSON.parse(await tickwork('logs', 'pack.hello', '--json')) as { runs: { trigger: string; status: string }[] };
    expect(logs.runs.map((r) => [r.trigger, r.status])).toEqual([
      ['manual', 'succeeded'],
      ['force', 'succeeded'],
    ]);
  });
});
