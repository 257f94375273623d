/**
 * Options of `createSqlStore` and `migrate`, and their validation: bad options fail
 * before any connection is opened.
 */
import type { MikroORM } from '@mikro-orm/core';
import { PREFIX, SqlStoreOptionsError } from './errors.js';

/** Connect to PostgreSQL with the store's own `pg` pool (install `@mikro-orm/postgresql`). */
export interface PostgresConnectionOptions {
  driver: 'postgresql';
  /** `postgres://user:password@host:port/db`; alternatively give `dbName` (+ host, port, user, password). */
  clientUrl?: string;
  dbName?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** PostgreSQL schema holding the `tickwork_*` tables. Default `public`. */
  schema?: string;
  /** Most connections the pool opens. Default 10. */
  poolSize?: number;
  /** Milliseconds to wait for a connection before failing with StoreUnavailableError. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * Server-side `statement_timeout` of the store's connections: a statement running longer is cancelled
   * (StoreUnavailableError). Default 15000.
   */
  statementTimeoutMs?: number;
  /**
   * Server-side `lock_timeout`: a statement waiting longer for a lock another session holds is cancelled
   * (StoreUnavailableError). Default 5000.
   */
  lockTimeoutMs?: number;
  /**
   * Client-side bound of one statement (a dead-but-open connection): past it the call fails with
   * StoreUnavailableError and the connection is dropped. Must exceed `statementTimeoutMs`. Default
   * `statementTimeoutMs` + 5000.
   */
  queryTimeoutMs?: number;
  /** Idle time before TCP keepalive probes start on every connection (pooled and LISTEN). Default 10000. */
  keepAliveDelayMs?: number;
}

/** Open an SQLite file with the store's own `libsql` connection (install `@mikro-orm/libsql`). */
export interface SqliteConnectionOptions {
  driver: 'sqlite';
  /** Path of the database file (created when missing). */
  dbName: string;
  /** How long a writer waits for another process's write lock, in milliseconds. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Use the host's MikroORM instance (`@mikro-orm/postgresql`, `@mikro-orm/libsql` or
 * `@mikro-orm/better-sqlite`); the store borrows its connections.
 */
export interface OrmConnectionOptions {
  orm: MikroORM;
  /** PostgreSQL schema of the Tickwork tables. Default: the ORM's `schema`, else `public`. */
  schema?: string;
}

/** Where the store keeps its tables. */
export type SqlStoreOptions = PostgresConnectionOptions | SqliteConnectionOptions | OrmConnectionOptions;

const KNOWN_KEYS: Record<string, readonly string[]> = {
  postgresql: [
    'driver',
    'clientUrl',
    'dbName',
    'host',
    'port',
    'user',
    'password',
    'schema',
    'poolSize',
    'connectTimeoutMs',
    'statementTimeoutMs',
    'lockTimeoutMs',
    'queryTimeoutMs',
    'keepAliveDelayMs',
  ],
  sqlite: ['driver', 'dbName', 'busyTimeoutMs'],
  orm: ['orm', 'schema'],
};

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,45}$/;

function fail(field: string, problem: string): never {
  throw new SqlStoreOptionsError(`${PREFIX} option "${field}" ${problem}`);
}

/** Checks a PostgreSQL schema name (it is spliced into SQL as an identifier, so it must be plain). */
export function checkSchemaName(schema: unknown): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    fail(
      'schema',
      `must be a lower-case identifier (letters, digits, _; at most 46 characters: the change channel "tickwork_changes:<schema>" must fit PostgreSQL's 63), got ${JSON.stringify(schema)}`,
    );
  }
  return schema;
}

function positiveInt(options: object, field: string): void {
  const value = (options as Record<string, unknown>)[field];
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)) {
    fail(field, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

/** Validates options without opening anything; returns them narrowed. */
export function checkOptions(options: SqlStoreOptions): SqlStoreOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object with `orm` or `driver`');
  const kind = 'orm' in options ? 'orm' : (options as { driver?: unknown }).driver;
  if (kind !== 'orm' && kind !== 'postgresql' && kind !== 'sqlite') {
    fail('driver', `must be "postgresql" or "sqlite" (or pass { orm }), got ${JSON.stringify(kind)}`);
  }
  const known = KNOWN_KEYS[kind] ?? [];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) fail(key, `is not an option of the ${kind} store; known: ${known.join(', ')}`);
  }
  if ('orm' in options) {
    if (typeof options.orm?.em?.getConnection !== 'function') fail('orm', 'must be an initialised MikroORM instance');
    if (options.schema !== undefined) checkSchemaName(options.schema);
    return options;
  }
  if (options.driver === 'sqlite') {
    if (typeof options.dbName !== 'string' || options.dbName === '') fail('dbName', 'must be the path of the SQLite file');
    positiveInt(options, 'busyTimeoutMs');
    return options;
  }
  if (options.clientUrl === undefined && options.dbName === undefined) fail('clientUrl', 'or "dbName" is required for PostgreSQL');
  if (options.clientUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.clientUrl);
    } catch {
      fail('clientUrl', `is not a valid URL (expected postgres://user:password@host:5432/db), got ${JSON.stringify(options.clientUrl)}`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      fail('clientUrl', `must start with postgres:// or postgresql://, got ${JSON.stringify(url.protocol)}`);
    }
  }
  if (options.schema !== undefined) checkSchemaName(options.schema);
  positiveInt(options, 'port');
  positiveInt(options, 'poolSize');
  positiveInt(options, 'connectTimeoutMs');
  for (const field of ['statementTimeoutMs', 'lockTimeoutMs', 'queryTimeoutMs', 'keepAliveDelayMs'] as const) positiveInt(options, field);
  const bounds = pgBounds(options);
  if (bounds.queryTimeoutMs <= bounds.statementTimeoutMs) {
    fail(
      'queryTimeoutMs',
      `(${bounds.queryTimeoutMs}) must be greater than statementTimeoutMs (${bounds.statementTimeoutMs}${options.statementTimeoutMs === undefined ? ', the default' : ''}): the server cancels a slow statement first, so a statement the client gave up on cannot commit later`,
    );
  }
  return options;
}

/** Default server-side statement timeout of the store's PostgreSQL connections. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
/** Default server-side lock timeout. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
/** How much longer than the statement timeout the client waits for an answer, by default. */
export const QUERY_TIMEOUT_MARGIN_MS = 5_000;
/** Default TCP keepalive idle time. */
export const DEFAULT_KEEPALIVE_DELAY_MS = 10_000;

/** The bounds of the store's PostgreSQL calls, defaults applied. */
export function pgBounds(options: PostgresConnectionOptions): {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  queryTimeoutMs: number;
  keepAliveDelayMs: number;
} {
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  return {
    statementTimeoutMs,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    queryTimeoutMs: options.queryTimeoutMs ?? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    keepAliveDelayMs: options.keepAliveDelayMs ?? DEFAULT_KEEPALIVE_DELAY_MS,
  };
}
