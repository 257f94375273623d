import { createRegistry, systemClock, type Clock, type JobRegistry, type Store, type TickworkConfig } from '@tickwork/core';
import { createStoreClock, resolveStore, type StoreClock } from '@tickwork/core/runner';
import { clockFromEnv } from './clock.js';
import { findConfig, loadConfig } from './config-loader.js';
import { ConfigLoadError } from './errors.js';
import type { CliIo } from './io.js';
import { paletteFor, type Palette } from './output/colour.js';

/**
 * The session's clock, with the correction it applies to this machine's: `offsetMs` is store
 * time minus local time, measured when the store was opened — 0 before, with `TICKWORK_NOW`,
 * and for a store without a clock (memory, SQLite).
 */
export type SessionClock = Pick<StoreClock, 'now' | 'offsetMs'>;

/** What a command gets: the io, the clock, and the config and store, each loaded on first use. */
export interface Session {
  readonly io: CliIo;
  /**
   * The command's clock: the store's time once `store()` has resolved (this machine's clock
   * corrected by the offset measured then), or `TICKWORK_NOW`'s fixed instant. Read it after
   * `store()` in any command that writes or shows times against the store's.
   */
  readonly clock: SessionClock;
  /** This machine's clock (or `TICKWORK_NOW`'s instant), never corrected: what `doctor` compares with the store's. */
  readonly localClock: Clock;
  /** Colours for stdout. */
  readonly palette: Palette;
  /** True when the config file was named with `--config` (not searched for). */
  readonly configGiven: boolean;
  /** The config file's absolute path (null when the config was injected). */
  configPath(): string | null;
  config(): Promise<TickworkConfig>;
  registry(): Promise<JobRegistry>;
  /**
   * The configured store, created (and so connected) only when a command asks. The first call
   * also syncs `clock` to the store's (three pings; once per process) unless `syncClock` is
   * false or `TICKWORK_NOW` is set; a failed ping rejects like the store's other calls.
   */
  store(options?: { syncClock?: boolean }): Promise<Store>;
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
  const localClock = clockFromEnv(io.env);
  let opened: Store | undefined;
  // Three pings per sync, because the first also opens the pool's first connection (and, for SQL,
  // checks the schema): its round trip is inflated by tens of ms, and core keeps the sample with
  // the shortest one.
  const clock = createStoreClock(() => opened as Store, { base: localClock, samples: 3 });
  let path: string | null | undefined = options.config ? null : undefined;
  let config: Promise<TickworkConfig> | undefined = options.config ? Promise.resolve(options.config) : undefined;
  let registry: JobRegistry | undefined;
  let store: Promise<Store> | undefined;
  let synced: Promise<Store> | undefined;
  let ownsStore = false;
  const session: Session = {
    io,
    clock,
    localClock,
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
        throw new ConfigLoadError(
          `${where}: jobs: ${error instanceof Error ? error.message.replace(/^\[tickwork\] /, '') : String(error)}`,
          { cause: error },
        );
      }
      return registry;
    },
    store(storeOptions = {}) {
      store ??= session.config().then((loaded) => {
        // Close on exit only what this session opened: a store object handed in by an embedding
        // host (config passed to runCli) stays the host's.
        ownsStore = options.config === undefined || typeof loaded.store === 'function';
        return resolveStore(loaded.store);
      });
      if (storeOptions.syncClock === false || localClock !== systemClock) return store;
      synced ??= store.then(async (resolved) => {
        // On the store's time, not this machine's, in every command: a crontab host whose clock is
        // off by seconds still claims each slot at the instant every other runner does, and the
        // instants it writes (resumedAt, requestedAt) and shows ("next in 3 min") are the store's.
        opened = resolved;
        await clock.sync();
        return resolved;
      });
      return synced;
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
