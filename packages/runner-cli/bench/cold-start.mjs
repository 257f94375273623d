// Cold start of `tickwork run` with nothing due, on SQLite and on PostgreSQL, and with a
// TypeScript config (compiled cache, and jiti with TICKWORK_CONFIG_CACHE=0), beside bare
// `node -e 0`. Usage: node bench/cold-start.mjs [runs=25]  (build first; needs PostgreSQL
// at TICKWORK_PG_URL, default postgres://postgres@127.0.0.1:5432/test).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const runs = Number(process.argv[2] ?? 25);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'dist/bin.js');
const core = pathToFileURL(join(root, 'node_modules/@tickwork/core/dist/index.js')).href;
const storeSql = pathToFileURL(join(root, 'node_modules/@tickwork/store-sql/dist/index.js')).href;
const pgUrl = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `tw_cli_bench_${process.pid}`;

function project(storeOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-'));
  writeFileSync(
    join(dir, 'tickwork.config.mjs'),
    `import { defineConfig, every } from ${JSON.stringify(core)};
import { createSqlStore, migrate } from ${JSON.stringify(storeSql)};
const options = ${storeOptions(dir)};
export default defineConfig({
  store: () => Object.assign(createSqlStore(options), { migrate: () => migrate(options) }),
  jobs: Array.from({ length: 20 }, (_, i) => ({ code: 'daily-' + i, schedule: every('1d'), run() {} })),
});
`,
  );
  return dir;
}

// The same 20 jobs on SQLite from a tickwork.config.ts importing a local ./jobs.js (jobs.ts) and
// the packages through node_modules, as a host project does.
function typeScriptProject() {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-ts-'));
  mkdirSync(join(dir, 'node_modules', '@tickwork'), { recursive: true });
  for (const name of ['core', 'store-sql']) {
    symlinkSync(realpathSync(join(root, 'node_modules/@tickwork', name)), join(dir, 'node_modules/@tickwork', name));
  }
  writeFileSync(
    join(dir, 'jobs.ts'),
    `import { every, type JobDefinition } from '@tickwork/core';
export const jobs: JobDefinition[] = Array.from({ length: 20 }, (_, i: number) => ({ code: 'daily-' + i, schedule: every('1d'), run() {} }));
`,
  );
  writeFileSync(
    join(dir, 'tickwork.config.ts'),
    `import { defineConfig } from '@tickwork/core';
import { createSqlStore, migrate, type SqlStoreOptions } from '@tickwork/store-sql';
import { jobs } from './jobs.js';
const options: SqlStoreOptions = { driver: 'sqlite', dbName: ${JSON.stringify(join(dir, 'tickwork.db'))} };
export default defineConfig({ store: () => Object.assign(createSqlStore(options), { migrate: () => migrate(options) }), jobs });
`,
  );
  return dir;
}

function spawnMs(args, cwd, env = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, {
    cwd,
    env: { ...process.env, TICKWORK_NOW: '2026-01-05T12:00:00Z', ...env },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

// Round-robin: one run of each command per round, so background load hits all of them alike.
function measureAll(cases) {
  for (const c of cases) spawnMs(c.args, c.cwd, c.env); // warm the OS file cache (and the config cache) once
  const times = cases.map(() => []);
  for (let i = 0; i < runs; i++)
    cases.forEach((c, j) => {
      times[j].push(spawnMs(c.args, c.cwd, c.env));
    });
  return cases.map((c, j) => {
    const sorted = times[j].sort((a, b) => a - b);
    return { label: c.label, min: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
  });
}

const sqliteDir = project((dir) => JSON.stringify({ driver: 'sqlite', dbName: join(dir, 'tickwork.db') }));
const pgDir = project(() => JSON.stringify({ driver: 'postgresql', clientUrl: pgUrl, schema, poolSize: 2 }));
const tsDir = typeScriptProject();
const tsCache = { TICKWORK_CACHE_DIR: join(tsDir, '.cache') };
try {
  for (const dir of [sqliteDir, pgDir, tsDir]) {
    spawnMs([bin, 'migrate'], dir);
    spawnMs([bin, 'run', '--silent'], dir); // creates the job states; nothing is due at noon for a daily job
  }
  const rows = measureAll([
    { label: 'node -e 0', args: ['-e', '0'], cwd: root },
    { label: 'tickwork run --silent (SQLite, 20 jobs, nothing due)', args: [bin, 'run', '--silent'], cwd: sqliteDir },
    { label: 'tickwork run --silent (PostgreSQL, 20 jobs, nothing due)', args: [bin, 'run', '--silent'], cwd: pgDir },
    { label: 'tickwork run --silent (SQLite, tickwork.config.ts, compiled)', args: [bin, 'run', '--silent'], cwd: tsDir, env: tsCache },
    {
      label: 'the same, TICKWORK_CONFIG_CACHE=0 (jiti, as before)',
      args: [bin, 'run', '--silent'],
      cwd: tsDir,
      env: { ...tsCache, TICKWORK_CONFIG_CACHE: '0' },
    },
    { label: 'tickwork --help', args: [bin, '--help'], cwd: sqliteDir },
  ]);
  const bare = rows[0];
  console.log(`cold start over ${runs} runs each (Node ${process.version}, ${(await import('node:os')).cpus().length} cores)`);
  for (const row of rows) {
    console.log(
      `${row.label.padEnd(62)} min ${row.min.toFixed(0).padStart(4)} ms  median ${row.median.toFixed(0).padStart(4)} ms  (${(row.median / bare.median).toFixed(2)}× bare node)`,
    );
  }
} finally {
  rmSync(sqliteDir, { recursive: true, force: true });
  rmSync(tsDir, { recursive: true, force: true });
  const pgModule = pathToFileURL(join(root, 'node_modules/@tickwork/store-sql/node_modules/pg/lib/index.js')).href;
  const pg = (await import(pgModule)).default;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  rmSync(pgDir, { recursive: true, force: true });
}
