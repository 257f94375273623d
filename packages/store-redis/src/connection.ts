/**
 * The store's connections. ioredis is imported only when the first command needs it, so
 * importing this package costs almost nothing (the CLI is spawned every minute). A client
 * the store creates fails fast and bounded when Redis is down (command timeout, few
 * retries per request), never resends a half-sent script after a reconnect (the caller
 * gets StoreUnavailableError and decides), and reconnects with capped backoff.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { Endpoint } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { SCRIPTS } from './scripts/index.js';

type RedisConstructor = new (url: string, options: RedisOptions) => Redis;

let ioredisModule: Promise<RedisConstructor> | null = null;

function loadIoredis(): Promise<RedisConstructor> {
  ioredisModule ??= import('ioredis').then((module) => module.Redis as unknown as RedisConstructor);
  return ioredisModule;
}

/** Reconnect delay after the n-th failed attempt: 50 ms doubling, capped at 2 s. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 10), 2_000);
}

/** Where a url points, for messages. */
export function endpointOf(options: ResolvedOptions): Endpoint {
  if (options.redis) {
    const o = options.redis.options as { host?: string; port?: number };
    return { host: o.host ?? '127.0.0.1', port: o.port ?? 6379 };
  }
  const url = new URL(options.url);
  return { host: url.hostname || '127.0.0.1', port: url.port ? Number(url.port) : 6379 };
}

/** The ioredis options of clients the store creates. */
function clientOptions(options: ResolvedOptions, role: string): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: options.commandTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    connectionName: `tickwork:${options.prefix}:${role}`,
    ...options.clientOptions,
  };
}

interface InFlight {
  length: number;
  shift(): { command?: { reject?(error: Error): void } } | undefined;
}

/**
 * With `autoResendUnfulfilledCommands` off, ioredis silently drops the commands that were in
 * flight when a connection closed, leaving their promises to the command timeout. Failing
 * them at once tells the caller right away that the call may or may not have happened.
 * (Resending instead would replay a claim or a run-now consumption whose answer was lost.)
 */
function failInFlight(client: Redis): void {
  const internal = client as unknown as { prevCommandQueue?: InFlight | null };
  const queue = internal.prevCommandQueue;
  if (!queue) return;
  internal.prevCommandQueue = null;
  const error = new Error('Connection is closed while the command was in flight; it may or may not have run');
  while (queue.length > 0) queue.shift()?.command?.reject?.(error);
}

/** Registers every script on a client (idempotent: ioredis replaces a same-named definition). */
function defineScripts(client: Redis): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') client.defineCommand(name, { numberOfKeys: 0, lua });
  }
}

/** The command connection (created on first use, memoised) and the subscriber connection (created on first subscribe). */
export class Connections {
  private command: Promise<Redis> | null = null;
  private created: Redis[] = [];

  constructor(private readonly options: ResolvedOptions) {}

  /** The client commands go through. */
  client(): Promise<Redis> {
    this.command ??= this.open('commands').then((client) => {
      defineScripts(client);
      return client;
    });
    return this.command;
  }

  /** A new connection for pub/sub: a duplicate of the injected client, or one more created client. */
  async subscriber(): Promise<Redis> {
    if (this.options.redis) {
      const sub = this.options.redis.duplicate({ lazyConnect: true });
      sub.on('error', () => {});
      this.created.push(sub);
      return sub;
    }
    return this.open('changes');
  }

  private async open(role: string): Promise<Redis> {
    if (this.options.redis) return this.options.redis;
    const RedisClient = await loadIoredis();
    const client = new RedisClient(this.options.url, clientOptions(this.options, role));
    // Errors surface on the commands that fail; an unhandled 'error' event would crash the host.
    client.on('error', () => {});
    client.on('close', () => failInFlight(client));
    this.created.push(client);
    return client;
  }

  /** Closes one connection this store created (a subscriber no longer needed). */
  async release(client: Redis): Promise<void> {
    this.created = this.created.filter((c) => c !== client);
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }

  /** Closes every connection the store created; an injected client stays open. */
  async close(): Promise<void> {
    const created = this.created;
    this.created = [];
    this.command = null;
    await Promise.allSettled(
      created.map(async (client) => {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      }),
    );
  }
}
