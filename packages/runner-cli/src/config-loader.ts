import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineConfig, type TickworkConfig } from '@tickwork/core';
import { buildConfigCache, cachedConfigUrl } from './config-cache.js';
import { ConfigLoadError } from './errors.js';

// Fetched, not imported: an ES import of node:fs builds its whole namespace, and its stream getters
// load fs streams (~7 ms of CPU on every crontab tick; see README "Cold start").
const { existsSync, lstatSync, mkdirSync, statSync } = process.getBuiltinModule('node:fs');

/** Config file names searched in each directory, in this order. */
export const CONFIG_FILE_NAMES: readonly string[] = [
  'tickwork.config.ts',
  'tickwork.config.mts',
  'tickwork.config.js',
  'tickwork.config.mjs',
];

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/** The config file to use: `explicit` (resolved against `cwd`), else the first match from `cwd` upward. */
export function findConfig(cwd: string, explicit?: string): string {
  if (explicit !== undefined) {
    const path = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new ConfigLoadError(`--config: no file at ${path}`);
    }
    return path;
  }
  const looked: string[] = [];
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    looked.push(dir);
    if (dirname(dir) === dir) break;
  }
  throw new ConfigLoadError(
    `no config file found: looked for ${CONFIG_FILE_NAMES.join(', ')} in ${looked.join(', ')}; create one or pass --config PATH`,
  );
}

/**
 * Loads a config file and checks its default export with core's `defineConfig`.
 * JavaScript is imported natively (no transform, fastest); TypeScript goes through jiti,
 * loaded only then, because Node 20 cannot strip types by itself.
 */
export async function loadConfig(path: string): Promise<TickworkConfig> {
  let loaded: unknown;
  try {
    if (TYPESCRIPT.has(extname(path))) {
      loaded = await loadTypeScriptConfig(path);
    } else {
      const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
      loaded = module.default;
    }
  } catch (error) {
    throw new ConfigLoadError(`config ${path} threw while loading: ${describe(error)}`, { cause: error });
  }
  if (loaded === undefined || loaded === null) {
    throw new ConfigLoadError(`config ${path}: has no default export; write \`export default defineConfig({ jobs, store })\``);
  }
  try {
    return defineConfig(loaded as TickworkConfig);
  } catch (error) {
    throw new ConfigLoadError(`config ${path}: ${describe(error)}`, { cause: error });
  }
}

/**
 * A TypeScript config: the compiled ES modules from the cache when every source is unchanged
 * (imported natively: no jiti, no transpiling), else compiled into the cache first
 * (config-cache.ts); through jiti (with its own transpile cache, as before the compiled one) when
 * `TICKWORK_CONFIG_CACHE=0`, when no cache directory is usable or writable, or when the config
 * uses what the compiled cache cannot reproduce.
 */
async function loadTypeScriptConfig(path: string): Promise<unknown> {
  const cacheDir = transpileCacheDir();
  if (cacheDir !== false && process.env.TICKWORK_CONFIG_CACHE !== '0') {
    const url = cachedConfigUrl(cacheDir, path) ?? buildConfigCache(cacheDir, path);
    if (url !== null) {
      const module = (await import(url)) as { default?: unknown };
      return module.default;
    }
  }
  // Required, not imported: jiti is CommonJS, and importing it makes Node scan its 190 kB for
  // named exports on every tick (~20 ms of CPU; see README "Cold start").
  const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
  const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false, fsCache: cacheDir });
  return jiti.import(path, { default: true });
}

/**
 * Where the TypeScript config's transpiled files are kept between runs (each keyed by its source's
 * hash, so an edited file is transpiled again): a private directory of this user's —
 * `$TICKWORK_CACHE_DIR`, else `$XDG_CACHE_HOME/tickwork/ts`, else `~/.cache/tickwork/ts`, else
 * `<tmpdir>/tickwork-ts-<uid>` — created 0700 and used only if it is a directory of this user's
 * that no one else can write or read; never the checkout (which may be read-only) nor a shared
 * directory. None usable: false (transpiled on every run, still correct).
 */
export function transpileCacheDir(env: NodeJS.ProcessEnv = process.env): string | false {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const candidates = [
    env.TICKWORK_CACHE_DIR ? resolve(env.TICKWORK_CACHE_DIR) : null,
    env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? join(env.XDG_CACHE_HOME, 'tickwork', 'ts') : null,
    safeHome() ? join(safeHome() as string, '.cache', 'tickwork', 'ts') : null,
    join(tmpdir(), `tickwork-ts-${uid ?? 'user'}`),
  ];
  for (const dir of candidates) {
    if (dir === null) continue;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stat = lstatSync(dir);
      if (!stat.isDirectory() || (stat.mode & 0o077) !== 0 || (uid !== null && stat.uid !== uid)) continue;
      return dir;
    } catch {
      // Read-only or foreign: try the next.
    }
  }
  return false;
}

function safeHome(): string | null {
  try {
    const home = homedir();
    return home && isAbsolute(home) ? home : null;
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.replace(/^\[tickwork\] /, '');
  return String(error);
}
