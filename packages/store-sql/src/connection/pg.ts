/**
 * Raw parameterised SQL on PostgreSQL through `pg`, imported on first use so that
 * importing the store costs nothing. Also the dedicated LISTEN connection.
 */
import type { Client, ClientConfig, PoolClient, PoolConfig } from 'pg';
import { isPgConnectionError, isPgNotSent, pgError } from '../errors.js';

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
  pgModule ??= import('pg').then((m) => ((m as unknown as { default?: PgModule }).default ?? m) as PgModule);
  return pgModule;
}

/** A pool of the store's own, created on first use. */
export function ownPool(config: PoolConfig, where: string): PgSource {
  let pool: Promise<import('pg').Pool> | undefined;
  const getPool = () => {
    pool ??= loadPg().then((pg) => {
      const created = new pg.Pool(config);
      // An idle client killed by the server (restart, pg_terminate_backend) emits here; the pool drops it.
      created.on('error', () => {});
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

/** Runs statements on a {@link PgSource}, mapping failures to Tickwork errors. */
export class PgConnection {
  constructor(readonly source: PgSource) {}

  /**
   * Runs one autocommit statement. A statement that certainly did not run (dead pooled
   * connection, backend terminated) is retried once on a fresh connection; reads
   * (`idempotent`) are retried after any connection failure.
   */
  async query<T>(sql: string, params: readonly unknown[], operation: string, idempotent = false): Promise<T[]> {
    for (let attempt = 1; ; attempt += 1) {
      let borrowed: Borrowed | undefined;
      try {
        borrowed = await this.source.borrow();
        const result = await borrowed.client.query(sql, params as unknown[]);
        borrowed.release();
        return result.rows as T[];
      } catch (error) {
        const connectionLost = isPgConnectionError(error);
        borrowed?.release(connectionLost ? (error as Error) : undefined);
        const retry = attempt === 1 && connectionLost && borrowed !== undefined && (idempotent || isPgNotSent(error));
        if (!retry) throw pgError(error, this.source.where, operation);
      }
    }
  }

  /** Listens on `channel` on a dedicated connection that reconnects with backoff after it drops. */
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
          delayMs = Math.min(delayMs * 2, 5000);
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

  close(): Promise<void> {
    return this.source.close();
  }
}
