import { InvalidArgumentError } from '@tickwork/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { MESSAGE_PREFIX } from './errors.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** An existing ioredis client — a `Redis` or a `Cluster` — the store defines its scripts on it and never closes it. */
  redis?: Redis | Cluster;
  /** `redis://[user:password@]host:port[/db]` when the store should create (lazily) its own client. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Every key starts with `<prefix>:`, so applications can share one Redis. Default `tickwork`. */
  prefix?: string;
  /** Upper bound of one command's wait, in ms, for clients the store creates (default 5000). */
  commandTimeoutMs?: number;
  /** Extra ioredis options for clients the store creates (they override the store's defaults). */
  clientOptions?: RedisOptions;
  /**
   * Wait for this many replicas (`WAIT count timeoutMs`) after every write a runner decides on; fewer
   * acknowledgements fail the call. Default: no waiting.
   */
  replicas?: ReplicasOption;
  /**
   * The Redis Cluster key layout (see the README "Redis Cluster"): every job in one of 16 shards,
   * each script within one slot. Default: true exactly when `redis` is an ioredis `Cluster`. A
   * single node can use it too (a proxy that enforces slots); it reads none of the single-node layout's keys.
   */
  cluster?: boolean;
}

/** The {@link RedisStoreOptions.replicas} option: how many replicas must acknowledge each decisive write, and how long to wait for them. */
export interface ReplicasOption {
  /** Replicas that must acknowledge each write (an integer ≥ 0; 0 waits for none). */
  count: number;
  /** Longest wait for them, in ms (a positive integer below `commandTimeoutMs`; default 1000). */
  timeoutMs?: number;
}

const OPTION_NAMES = new Set(['redis', 'url', 'prefix', 'commandTimeoutMs', 'clientOptions', 'replicas', 'cluster']);
const BAD_PREFIX = /[*?[\]{}\s]/;

/** The validated options, with defaults applied. */
export interface ResolvedOptions {
  /** The injected client (a Cluster is used through the same commands as a Redis). */
  redis: Redis | null;
  url: string;
  /** Whether the Cluster layout is used. */
  cluster: boolean;
  prefix: string;
  commandTimeoutMs: number;
  clientOptions: RedisOptions;
  /** null when no write waits for replicas. */
  replicas: { count: number; timeoutMs: number } | null;
}

/** Checks options up front so bad configuration fails before any connection is made. */
export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} createRedisStore(options): options must be an object`);
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) {
      throw new InvalidArgumentError(
        `${MESSAGE_PREFIX} createRedisStore(options): unknown option "${name}"; known: ${[...OPTION_NAMES].join(', ')}`,
      );
    }
  }
  const prefix = options.prefix ?? 'tickwork';
  if (typeof prefix !== 'string' || prefix.length === 0 || BAD_PREFIX.test(prefix)) {
    throw new InvalidArgumentError(
      `${MESSAGE_PREFIX} createRedisStore(options): prefix ${JSON.stringify(prefix)} is invalid: it must be a non-empty string without * ? [ ] { } or whitespace (they break SCAN patterns and Cluster hash tags)`,
    );
  }
  if (options.redis !== undefined && options.url !== undefined) {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} createRedisStore(options): pass either redis (a client) or url, not both`);
  }
  const redis = (options.redis ?? null) as Redis | null;
  if (redis !== null && (typeof redis !== 'object' || typeof (redis as { defineCommand?: unknown }).defineCommand !== 'function')) {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} createRedisStore(options): redis must be an ioredis client`);
  }
  const isCluster = redis !== null && (redis as { isCluster?: boolean }).isCluster === true;
  if (options.cluster !== undefined && typeof options.cluster !== 'boolean') {
    throw new InvalidArgumentError(
      `${MESSAGE_PREFIX} createRedisStore(options): cluster must be a boolean, got ${String(options.cluster)}`,
    );
  }
  if (isCluster && options.cluster === false) {
    throw new InvalidArgumentError(
      `${MESSAGE_PREFIX} createRedisStore(options): redis is a Cluster client but cluster is false; the single-node key layout spans slots — leave cluster out (or true) — see the README "Redis Cluster"`,
    );
  }
  const cluster = options.cluster ?? isCluster;
  const url = options.url ?? 'redis://127.0.0.1:6379';
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new InvalidArgumentError(
      `${MESSAGE_PREFIX} createRedisStore(options): url ${JSON.stringify(url)} must start with redis:// or rediss://`,
    );
  }
  try {
    new URL(url);
  } catch {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} createRedisStore(options): url ${JSON.stringify(url)} is not a valid URL`);
  }
  const commandTimeoutMs = options.commandTimeoutMs ?? 5_000;
  if (!Number.isInteger(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new InvalidArgumentError(
      `${MESSAGE_PREFIX} createRedisStore(options): commandTimeoutMs must be a positive integer, got ${String(commandTimeoutMs)}`,
    );
  }
  const replicas = resolveReplicas(options.replicas, commandTimeoutMs, redis !== null);
  return { redis, url, cluster, prefix, commandTimeoutMs, clientOptions: options.clientOptions ?? {}, replicas };
}

/** Checks the replicas option; `{ count: 0 }` (or none) means no write waits. */
function resolveReplicas(replicas: ReplicasOption | undefined, commandTimeoutMs: number, injected: boolean): ResolvedOptions['replicas'] {
  if (replicas === undefined) return null;
  const where = `${MESSAGE_PREFIX} createRedisStore(options): replicas`;
  if (replicas === null || typeof replicas !== 'object')
    throw new InvalidArgumentError(`${where} must be an object { count, timeoutMs? }, got ${String(replicas)}`);
  for (const name of Object.keys(replicas)) {
    if (name !== 'count' && name !== 'timeoutMs')
      throw new InvalidArgumentError(`${where}: unknown field "${name}"; known: count, timeoutMs`);
  }
  const { count } = replicas;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new InvalidArgumentError(`${where}.count must be an integer ≥ 0 (replicas that acknowledge each write), got ${String(count)}`);
  }
  const timeoutMs = replicas.timeoutMs ?? 1_000;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidArgumentError(
      `${where}.timeoutMs must be a positive integer (ms; WAIT with 0 would block forever), got ${String(timeoutMs)}`,
    );
  }
  // Clients the store creates time a command out after commandTimeoutMs: WAIT must answer first.
  if (!injected && timeoutMs >= commandTimeoutMs) {
    throw new InvalidArgumentError(
      `${where}.timeoutMs (${timeoutMs}) must be below commandTimeoutMs (${commandTimeoutMs}), or the command would time out before WAIT answers`,
    );
  }
  return count === 0 ? null : { count, timeoutMs };
}
