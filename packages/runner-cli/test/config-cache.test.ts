import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, transpileCacheDir } from '../src/config-loader.js';

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

function config(code: string): string {
  return `import { defineConfig, defineJob, createMemoryStore } from ${JSON.stringify(CORE)};
const schedule: string = '0 3 * * *';
export default defineConfig({ jobs: [defineJob({ code: '${code}', schedule, run: () => undefined })], store: () => createMemoryStore() });
`;
}

describe('the TypeScript config’s transpile cache', () => {
  it('keeps transpiled files in a private directory, and transpiles an edited config again', async () => {
    const cache = join(scratch(), 'cache');
    process.env.TICKWORK_CACHE_DIR = cache;
    const project = scratch();
    const file = join(project, 'tickwork.config.ts');
    writeFileSync(file, config('first.job'));
    expect((await loadConfig(file)).jobs.map((j) => j.code)).toEqual(['first.job']);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const cached = readdirSync(cache);
    expect(cached.length).toBeGreaterThan(0);
    writeFileSync(file, config('second.job'));
    expect((await loadConfig(file)).jobs.map((j) => j.code)).toEqual(['second.job']);
    // Keyed by the source's hash: the edited config was transpiled again, and that is what is kept.
    const texts = readdirSync(cache).map((name) => readFileSync(join(cache, name), 'utf8'));
    expect(texts.some((text) => text.includes('second.job'))).toBe(true);
    expect(texts.some((text) => text.includes('first.job'))).toBe(false);
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
