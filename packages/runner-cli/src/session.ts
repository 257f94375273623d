import {
  createRegistry,
  resolveStore,
  type Clock,
  type JobRegistry,
  type Store,
  type TickworkConfig,
} from '@tickwork/core';
import { clockFromEnv } from './clock.js';
import { findConfig, loadConfig } from './config-loader.js';
import { ConfigLoadError } from './errors.js';
import type { CliIo } from './io.js';
import { paletteFor, type Palette } from './output/colour.js';

/** What a command gets: the io, the clock, and the config and store, each loaded on first use. */
export interface Session {
  readonly io: CliIo;
  readonly clock: Clock;
  /** Colours for stdout. */
  readonly palette: Palette;
  /** True when the config file was named with `--config` (not searched for). */
  readonly configGiven: boolean;
  /** The config file's absolute path (null when the config was injected). */
  configPath(): string | null;
  config(): Promise<TickworkConfig>;
  registry(): Promise<JobRegistry>;
  /** The configured store, created (and so connected) only when a command asks. */
  store(): Promise<Store>;
  /** Default timezone of the config. */
  timezone(): Promise<string>;
  out(text: string): void;
  err(text: string): void;
  /** Closes the store if it was opened. */
  close(): Promise<void>;
}

/** How a session finds its config: a path (`--config`), or an already loaded config (tests, embedding). */
export interface SessionOptions {
  io: CliIo;
  configPath?: string;
  config?: TickworkConfig;
}

/** Creates a session; nothing is loaded until a command asks for it. */
export function createSession(options: SessionOptions): Session {
  const { io } = options;
  const clock = clockFromEnv(io.env);
  let path: string | null | undefined = options.config ? null : undefined;
  let config: Promise<TickworkConfig> | undefined = options.config ? Promise.resolve(options.config) : undefined;
  let registry: JobRegistry | undefined;
  let store: Promise<Store> | undefined;
  let ownsStore = false;
  const session: Session = {
    io,
    clock,
    palette: paletteFor(io.stdout, io.env),
    configGiven: options.configPath !== undefined,
    configPath() {
      if (path === undefined) path = findConfig(io.cwd, options.configPath);
      return path;
    },
    config() {
      config ??= Promise.resolve().then(() => loadConfig(session.configPath() as string));
      return config;
    },
    async registry() {
      const loaded = await session.config();
      try {
        registry ??= createRegistry(loaded.jobs);
      } catch (error) {
        const where = session.configPath() ?? 'config';
        throw new ConfigLoadError(`${where}: jobs: ${error instanceof Error ? error.message.replace(/^\[tickwork\] /, '') : String(error)}`, { cause: error });
      }
      return registry;
    },
    store() {
      store ??= session.config().then((loaded) => {
        // Close on exit only what this session opened: a store object handed in by an embedding
        // host (config passed to runCli) stays the host's.
        ownsStore = options.config === undefined || typeof loaded.store === 'function';
        return resolveStore(loaded.store);
      });
      return store;
    },
    async timezone() {
      return (await session.config()).timezone ?? 'UTC';
    },
    out: (text) => void io.stdout.write(text),
    err: (text) => void io.stderr.write(text),
    async close() {
      if (!store || !ownsStore) return;
      const opened = await store.catch(() => null);
      await opened?.close().catch(() => undefined);
    },
  };
  return session;
}
