import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, transpileCacheDir } from '../src/config-loader.js';
import { BIN } from './fixtures/project.js';

const CORE = resolve(fileURLToPath(new URL('.', import.meta.url)), '../node_modules/@tickwork/core/dist/index.js');
const made: string[] = [];
const saved = process.env.TICKWORK_CACHE_DIR;

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-cache-test-'));
  made.push(dir);
  return dir;
}

afterEach(() => {
  if (saved === undefined) delete process.env.TICKWORK_CACHE_DIR;
  else process.env.TICKWORK_CACHE_DIR = saved;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every file under `dir`, read. */
function cachedTexts(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path, 'utf8'));
}

function config(code: string): string {
  return `import { defineConfig, defineJob, createMemoryStore } from ${JSON.stringify(CORE)};
const schedule: string = '0 3 * * *';
export default defineConfig({ jobs: [defineJob({ code: '${code}', schedule, run: () => undefined })], store: () => createMemoryStore() });
`;
}

describe('the TypeScript config’s transpile cache', () => {
  it('keeps the compiled config in a private directory, and compiles an edited config again', async () => {
    const cache = join(scratch(), 'cache');
    process.env.TICKWORK_CACHE_DIR = cache;
    const project = scratch();
    const file = join(project, 'tickwork.config.ts');
    writeFileSync(file, config('first.job'));
    expect((await loadConfig(file)).jobs.map((j) => j.code)).toEqual(['first.job']);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(cachedTexts(cache).some((text) => text.includes('first.job'))).toBe(true);
    writeFileSync(file, config('second.job'));
    expect((await loadConfig(file)).jobs.map((j) => j.code)).toEqual(['second.job']);
    expect(cachedTexts(cache).some((text) => text.includes('second.job'))).toBe(true);
  });

  it('skips a directory others can read or write, and works with no usable directory at all', async () => {
    const open = join(scratch(), 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const chosen = transpileCacheDir({ TICKWORK_CACHE_DIR: open, XDG_CACHE_HOME: join(scratch(), 'xdg') });
    expect(chosen).not.toBe(open);
    expect(chosen && statSync(chosen).mode & 0o077).toBe(0);
    // A config still loads when the cache cannot be used (a file where the directory should be).
    const blocked = join(scratch(), 'blocked');
    writeFileSync(blocked, '');
    process.env.TICKWORK_CACHE_DIR = blocked;
    const project = scratch();
    const file = join(project, 'tickwork.config.ts');
    writeFileSync(file, config('still.loads'));
    expect((await loadConfig(file)).jobs.map((j) => j.code)).toEqual(['still.loads']);
  });
});

/** A project with a TypeScript config importing `@tickwork/core` (through node_modules) and a local `./jobs.js` (jobs.ts). */
function tsProject(jobCode: string, configExtra = ''): { dir: string; cache: string; writeJobs(code: string): void } {
  const dir = scratch();
  const cache = join(scratch(), 'cache');
  mkdirSync(join(dir, 'node_modules', '@tickwork'), { recursive: true });
  symlinkSync(dirname(dirname(CORE)), join(dir, 'node_modules', '@tickwork', 'core'));
  const writeJobs = (code: string) =>
    writeFileSync(
      join(dir, 'jobs.ts'),
      `import { defineJob, type JobDefinition } from '@tickwork/core';
enum Hour { Three = 3 }
export const jobs: JobDefinition[] = [defineJob({ code: '${code}', schedule: \`0 \${Hour.Three} * * *\`, run: () => undefined })];
`,
    );
  writeJobs(jobCode);
  writeFileSync(
    join(dir, 'tickwork.config.ts'),
    `import { createMemoryStore, defineConfig } from '@tickwork/core';
import { jobs } from './jobs.js';
${configExtra}
export default defineConfig({ jobs, store: () => createMemoryStore() });
`,
  );
  return { dir, cache, writeJobs };
}

async function listCodes(dir: string, env: Record<string, string>): Promise<{ codes: string[]; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'list', '--json'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', TICKWORK_NOW: '2026-01-05T12:00:00Z', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolvePromise) => child.on('close', resolvePromise));
  expect({ code, stderr: stderr.replace(/^MODULE \d+: .*\n/gm, '') }).toEqual({ code: 0, stderr: '' });
  return { codes: (JSON.parse(stdout) as { jobs: { code: string }[] }).jobs.map((job) => job.code), stderr };
}

/** jiti or TypeScript files a NODE_DEBUG=module log shows loaded. */
function loaded(log: string): string[] {
  return log.match(/load "[^"]*\/node_modules\/(jiti|typescript)\/[^"]*"/g) ?? [];
}

/** The cache's entry directories (one per config). */
function entries(cache: string): string[] {
  return existsSync(cache) ? readdirSync(cache).filter((name) => name.startsWith('esm-')) : [];
}

describe('`tickwork list` with a TypeScript config and its compiled-ES-module cache', () => {
  it('imports the compiled files with no jiti and no TypeScript once built, and sees an edited imported file on the next run', async () => {
    const project = tsProject('first.job');
    const env = { TICKWORK_CACHE_DIR: project.cache };
    expect((await listCodes(project.dir, env)).codes).toEqual(['first.job']);
    expect(entries(project.cache)).toHaveLength(1);
    // Unchanged: the cached files are imported as they are (NODE_DEBUG=module names every CommonJS file loaded).
    const warm = await listCodes(project.dir, { ...env, NODE_DEBUG: 'module' });
    expect(warm.codes).toEqual(['first.job']);
    expect(loaded(warm.stderr)).toEqual([]);
    // Same length, so only the content tells the two apart.
    project.writeJobs('other.job');
    expect((await listCodes(project.dir, env)).codes).toEqual(['other.job']);
    expect(loaded((await listCodes(project.dir, { ...env, NODE_DEBUG: 'module' })).stderr)).toEqual([]);
    expect((await listCodes(project.dir, env)).codes).toEqual(['other.job']);
  }, 120_000);

  it('loads the config through jiti, with no error, when the cache cannot be written', async () => {
    const project = tsProject('first.job');
    const env = { TICKWORK_CACHE_DIR: project.cache };
    expect((await listCodes(project.dir, env)).codes).toEqual(['first.job']);
    const [entry] = entries(project.cache) as [string];
    // A file where the config's entry directory should be: nothing can be written there.
    rmSync(join(project.cache, entry), { recursive: true });
    writeFileSync(join(project.cache, entry), '');
    project.writeJobs('other.job');
    expect((await listCodes(project.dir, env)).codes).toEqual(['other.job']);
    expect((await listCodes(project.dir, env)).codes).toEqual(['other.job']);
    if (process.getuid?.() !== 0) {
      // A read-only cache directory (root writes into one anyway).
      rmSync(join(project.cache, entry));
      chmodSync(project.cache, 0o500);
      project.writeJobs('third.job');
      expect((await listCodes(project.dir, env)).codes).toEqual(['third.job']);
      chmodSync(project.cache, 0o700);
    }
  }, 120_000);

  it('writes no cache with TICKWORK_CONFIG_CACHE=0, nor for a config using what an ES module lacks (__dirname)', async () => {
    const off = tsProject('first.job');
    expect((await listCodes(off.dir, { TICKWORK_CACHE_DIR: off.cache, TICKWORK_CONFIG_CACHE: '0' })).codes).toEqual(['first.job']);
    expect(entries(off.cache)).toEqual([]);
    const commonJs = tsProject('first.job', 'const here: string = __dirname;\nif (!here) throw new Error("no __dirname");');
    expect((await listCodes(commonJs.dir, { TICKWORK_CACHE_DIR: commonJs.cache })).codes).toEqual(['first.job']);
    expect(entries(commonJs.cache)).toEqual([]);
  }, 120_000);
});

describe('the compiled cache’s generations', () => {
  it('keeps a superseded generation for a tick still importing it, and removes it once superseded ten minutes before', async () => {
    const cache = join(scratch(), 'cache');
    process.env.TICKWORK_CACHE_DIR = cache;
    const file = join(scratch(), 'tickwork.config.ts');
    const generations = () => {
      const [entry] = entries(cache) as [string];
      return readdirSync(join(cache, entry))
        .filter((name) => name.startsWith('g-'))
        .sort();
    };
    const current = () => {
      const [entry] = entries(cache) as [string];
      return (JSON.parse(readFileSync(join(cache, entry, 'manifest.json'), 'utf8')) as { generation: string }).generation;
    };
    writeFileSync(file, config('first.job'));
    await loadConfig(file);
    const first = current();
    writeFileSync(file, config('other.job'));
    expect((await loadConfig(file)).jobs.map((j) => j.code)).toEqual(['other.job']);
    const second = current();
    expect(second).not.toBe(first);
    // Superseded just now: kept.
    expect(generations()).toEqual([first, second].sort());
    // Superseded eleven minutes ago: the next compile removes it, and never the current one.
    const [entry] = entries(cache) as [string];
    const longAgo = new Date(Date.now() - 11 * 60_000);
    utimesSync(join(cache, entry, first), longAgo, longAgo);
    utimesSync(join(cache, entry, second), longAgo, longAgo);
    writeFileSync(file, config('third.job'));
    expect((await loadConfig(file)).jobs.map((j) => j.code)).toEqual(['third.job']);
    expect(generations()).toEqual([second, current()].sort());
  });
});
