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
    // A Cluster client names its first startup node.
    const first = (options.redis as unknown as { startupNodes?: unknown[] }).startupNodes?.[0];
    if (first && typeof first === 'object') {
      const node = first as { host?: string; port?: number };
      return { host: node.host ?? '127.0.0.1', port: node.port ?? 6379 };
    }
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
    // Commands never wait in ioredis' offline queue: one that timed out there would still be
    // sent after a reconnect (a claim or a run-now consumption nobody hears the answer of).
    // `client()` waits for the first connection instead, bounded by the command timeout, and
    // fails calls at once while a lost one is re-established. The subscriber keeps the queue:
    // (re)subscribing is idempotent.
    enableOfflineQueue: role === 'changes',
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
    if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') client.defineCommand(name, { lua });
  }
}

/** The command connection (created on first use, memoised) and the subscriber connection (created on first subscribe). */
export class Connections {
  private command: Promise<Redis> | null = null;
  private created: Redis[] = [];
  /** The wait for the first connection that every caller shares, while one is pending. */
  private firstConnect: Promise<void> | null = null;
  /** Whether the command client was ready once: from then on a lost connection fails calls at once. */
  private wasReady = false;

  constructor(private readonly options: ResolvedOptions) {}

  /** The client commands go through, once it is connected (see {@link whenReady}). */
  async client(): Promise<Redis> {
    this.command ??= this.open('commands').then((client) => {
      defineScripts(client);
      return client;
    });
    const client = await this.command;
    await this.whenReady(client);
    return client;
  }

  /**
   * Resolves when `client` is ready. The first connection is waited for (bounded by the command
   * timeout), all callers sharing one wait. Once a connection was lost, a call fails at once
   * until it is back: a call held through a reconnect would be sent seconds after its caller
   * computed it (a claim with a stale `now`, a round trip that makes a daemon claim further
   * ahead), and the caller's own retry decides better when to try again.
   */
  private whenReady(client: Redis): Promise<void> {
    if (client.status === 'ready') {
      this.wasReady = true;
      return Promise.resolve();
    }
    if (this.wasReady) {
      return Promise.reject(
        new Error(`Connection is closed and is being re-established (status ${client.status}); the command was not sent`),
      );
    }
    this.firstConnect ??= this.untilReady(client).finally(() => {
      this.firstConnect = null;
    });
    return this.firstConnect;
  }

  /** One wait for the first connection: connects a lazy client; ends on ready, end, the third failed attempt or the command timeout. */
  private untilReady(client: Redis): Promise<void> {
    if (client.status === 'wait') client.connect().catch(() => {});
    return new Promise((resolve, reject) => {
      let failures = 0;
      const done = (error?: Error) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('end', onEnd);
        client.off('error', onError);
        if (error) reject(error);
        else {
          this.wasReady = true;
          resolve();
        }
      };
      const onReady = () => done();
      const onEnd = () => done(new Error('Connection is closed'));
      // As fast as the offline queue's `maxRetriesPerRequest: 2` used to fail: the third failed attempt ends the wait.
      const onError = (error: Error) => {
        failures += 1;
        if (failures >= 3) done(error);
      };
      client.on('error', onError);
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `Connection is not ready after ${this.options.commandTimeoutMs} ms (status ${client.status}); the command was not sent`,
            ),
          ),
        this.options.commandTimeoutMs,
      );
      client.on('ready', onReady);
      client.on('end', onEnd);
    });
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
    this.wasReady = false;
    await Promise.allSettled(
      created.map(async (client) => {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      }),
    );
  }
}
