/**
 * Raw parameterised SQL on PostgreSQL through `pg` (from `@mikro-orm/postgresql`), loaded
 * on first use so that importing the store costs nothing. Also the dedicated LISTEN connection.
 */
import type { Client, ClientConfig, PoolClient, PoolConfig } from 'pg';
import { isPgConflict, isPgConnectionError, isPgNotSent, isPgQueryTimeout, pgError } from '../errors.js';
import { loadDriver, withPropertyDuringLoad } from './drivers.js';

/** One pg connection borrowed for a while (from the store's pool or the host's knex). */
interface Borrowed {
  client: Pick<PoolClient, 'query'>;
  release(error?: Error): void;
}

/** Where PostgreSQL connections come from. */
export interface PgSource {
  /** "host:port/db" for messages. */
  readonly where: string;
  borrow(): Promise<Borrowed>;
  /** Settings for a dedicated (LISTEN) connection. */
  clientConfig(): ClientConfig;
  close(): Promise<void>;
}

/** Handlers of a LISTEN subscription. */
export interface ListenHandlers {
  message(payload: string): void;
}

type PgModule = typeof import('pg');
let pgModule: Promise<PgModule> | undefined;
/** Loads `pg` once per process. */
export function loadPg(): Promise<PgModule> {
  pgModule ??= Promise.resolve().then(() => withoutLazyResponse(() => loadDriver<PgModule>('postgresql')));
  return pgModule;
}

/**
 * Runs `load` (a synchronous `require`) with the global `Response` hidden while Node still holds it
 * as a lazy getter, then puts the getter back untouched. `pg`'s `lib/stream.js` asks, as it loads,
 * whether it runs in a Cloudflare Worker: where `navigator` does not answer (Node 20) it builds a
 * `new Response(null, { cf: … })`, and touching `Response` loads Node's whole fetch implementation
 * (undici, with http2: about 18 ms of CPU on every PostgreSQL tick). Without `Response` the check
 * gives the answer it gives on Node anyway (not a Worker), and nothing else runs in between.
 */
export function withoutLazyResponse<T>(load: () => T): T {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  // Already loaded (a value), or not Node's lazy global: nothing to save.
  if (descriptor?.get === undefined || !descriptor.configurable) return load();
  return withPropertyDuringLoad(globalThis, 'Response', descriptor, undefined, load);
}

/** A pool of the store's own, created on first use. */
export function ownPool(config: PoolConfig, where: string): PgSource {
  let pool: Promise<import('pg').Pool> | undefined;
  const getPool = () => {
    pool ??= loadPg().then((pg) => {
      const created = new pg.Pool(config);
      // An idle client killed by the server (restart, pg_terminate_backend) emits here; the pool drops it.
      created.on('error', () => {});
      // A checked-out client has no listener of the pool's: a server stop whose FATAL 57P01 arrives right after a
      // statement's answer (the same read, before the client is released) would be an uncaught 'error' event and
      // kill the process. The client is then marked unusable, so its next statement fails as "not queryable"
      // (retried on a fresh connection) and its release drops it from the pool.
      created.on('connect', (client) => client.on('error', () => {}));
      return created;
    });
    return pool;
  };
  return {
    where,
    async borrow() {
      const client = await (await getPool()).connect();
      return { client, release: (error) => client.release(error ?? false) };
    },
    clientConfig: () => config,
    async close() {
      if (pool) await (await pool).end();
      pool = undefined;
    },
  };
}

/** The longest pause between two reconnect tries of a LISTEN connection. */
export const LISTEN_RETRY_MAX_MS = 1000;

/** How many times a statement aborted by a deadlock or serialization failure runs again, by default. */
export const CONFLICT_RETRIES = 2;

/** Runs statements on a {@link PgSource}, mapping failures to Tickwork errors. */
export class PgConnection {
  /** `conflictRetries`: see {@link CONFLICT_RETRIES} (the lock-order tests set 0, so a deadlock shows). */
  constructor(
    readonly source: PgSource,
    private readonly conflictRetries = CONFLICT_RETRIES,
  ) {}

  /**
   * Runs one autocommit statement, on a connection borrowed for it alone (never inside a
   * transaction of the caller's). A statement that certainly did not run (dead pooled
   * connection, backend terminated) is retried once on a fresh connection; reads
   * (`idempotent`) are retried after any connection failure. A statement the server
   * aborted with a deadlock (40P01) or serialization failure (40001) was rolled back
   * whole, with its NOTIFYs, so it runs again after a pause of a few tens of milliseconds,
   * up to `conflictRetries` times. (The store's functions take their locks in one order, so
   * this is a safety net, not the plan.)
   */
  async query<T>(sql: string, params: readonly unknown[], operation: string, idempotent = false): Promise<T[]> {
    let reconnected = false;
    let conflicts = 0;
    for (;;) {
      let borrowed: Borrowed | undefined;
      try {
        borrowed = await this.source.borrow();
        const result = await borrowed.client.query(sql, params as unknown[]);
        borrowed.release();
        return result.rows as T[];
      } catch (error) {
        const connectionLost = isPgConnectionError(error);
        borrowed?.release(connectionLost ? (error as Error) : undefined);
        // A query timeout is never retried: the call already used its whole bound.
        if (!reconnected && connectionLost && borrowed !== undefined && !isPgQueryTimeout(error) && (idempotent || isPgNotSent(error))) {
          reconnected = true;
        } else if (isPgConflict(error) && conflicts < this.conflictRetries) {
          conflicts += 1;
          // A short random pause first: the transaction this one deadlocked with takes the freed rows and goes on,
          // instead of racing an immediate retry for them and deadlocking again.
          await new Promise((resolve) => setTimeout(resolve, conflicts * 20 + Math.random() * 30));
        } else {
          throw pgError(error, this.source.where, operation);
        }
      }
    }
  }

  /**
   * Runs `fn` in one transaction on a connection borrowed for it; a deadlock or serialization
   * failure rolls it back whole and runs it again, as {@link query} does. For the few operations
   * that read, decide in TypeScript and write (partition leases); hot paths stay one statement.
   */
  async transaction<T>(
    operation: string,
    fn: (tx: { all<R>(sql: string, params: readonly unknown[]): Promise<R[]> }) => Promise<T>,
  ): Promise<T> {
    for (let conflicts = 0; ; conflicts += 1) {
      let borrowed: Borrowed | undefined;
      try {
        borrowed = await this.source.borrow();
        const { client } = borrowed;
        await client.query('BEGIN');
        try {
          const result = await fn({ all: async (sql, params) => (await client.query(sql, params as unknown[])).rows });
          await client.query('COMMIT');
          borrowed.release();
          return result;
        } catch (error) {
          if (!isPgConnectionError(error)) await client.query('ROLLBACK').catch(() => {});
          throw error;
        }
      } catch (error) {
        borrowed?.release(isPgConnectionError(error) ? (error as Error) : undefined);
        if (!isPgConflict(error) || conflicts >= this.conflictRetries) throw pgError(error, this.source.where, operation);
        await new Promise((resolve) => setTimeout(resolve, (conflicts + 1) * 20 + Math.random() * 30));
      }
    }
  }

  /**
   * Listens on `channel` on a dedicated connection that reconnects after it drops, every
   * 100 ms doubling to {@link LISTEN_RETRY_MAX_MS} while the server stays away, so it is back
   * within about a second of the server.
   */
  async listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>> {
    const pg = await loadPg();
    let closed = false;
    let client: Client | undefined;
    let delayMs = 100;
    let timer: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const config = this.source.clientConfig();
      const next = new pg.Client({ ...config, application_name: `${config.application_name ?? 'tickwork'}:listen` });
      next.on('error', () => {});
      next.on('notification', (n) => {
        if (n.channel === channel && n.payload !== undefined) handlers.message(n.payload);
      });
      try {
        await next.connect();
        await next.query(`LISTEN "${channel}"`);
      } catch (error) {
        await next.end().catch(() => {});
        throw error;
      }
      if (closed) {
        // Unsubscribed while this (re)connect was in flight: its socket must not outlive the subscription.
        await next.end().catch(() => {});
        return;
      }
      next.on('end', () => {
        if (!closed && client === next) scheduleReconnect();
      });
      client = next;
      delayMs = 100;
    };
    const scheduleReconnect = () => {
      client = undefined;
      timer = setTimeout(() => {
        connect().catch(() => {
          delayMs = Math.min(delayMs * 2, LISTEN_RETRY_MAX_MS);
          if (!closed) scheduleReconnect();
        });
      }, delayMs);
      timer.unref();
    };
    try {
      await connect();
    } catch (error) {
      throw pgError(error, this.source.where, 'subscribe');
    }
    return async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    };
  }

  /** The dedicated connection holding this instance's session advisory locks (runner presence), and the keys it holds. */
  private locks: { client: Promise<Client>; held: Set<string> } | null = null;

  /**
   * Takes (or confirms) the session advisory lock `key` (a bigint as decimal text) on a dedicated
   * connection that lives as long as this instance, so the server drops the lock the moment the
   * process dies. Answers false when another session holds it. A dropped connection is opened
   * again by the next call, which takes its locks again.
   */
  async holdLock(key: string, operation: string): Promise<boolean> {
    const pg = await loadPg();
    if (!this.locks) {
      const config = this.source.clientConfig();
      const client = new pg.Client({ ...config, application_name: `${config.application_name ?? 'tickwork'}:presence` });
      const entry = { client: client.connect().then(() => client), held: new Set<string>() };
      const drop = () => {
        if (this.locks === entry) this.locks = null;
      };
      client.on('error', drop);
      client.on('end', drop);
      entry.client.catch(drop);
      this.locks = entry;
    }
    const entry = this.locks;
    try {
      const client = await entry.client;
      if (entry.held.has(key)) return true;
      const result = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
      const ok = result.rows[0]?.ok === true;
      if (ok) entry.held.add(key);
      return ok;
    } catch (error) {
      if (this.locks === entry) this.locks = null;
      void entry.client.then((client) => client.end()).catch(() => {});
      throw pgError(error, this.source.where, operation);
    }
  }

  /** Ends the advisory-lock connection (its locks go with it). */
  async releaseLocks(): Promise<void> {
    const entry = this.locks;
    this.locks = null;
    if (entry) await entry.client.then((client) => client.end()).catch(() => {});
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
