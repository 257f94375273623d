/**
 * `createSqlStore`: picks the dialect, creates (or borrows) connections lazily, and
 * checks the schema version once before the first operation.
 */
import type { Store } from '@tickwork/core';
import { decorateStore, type StoreHooks } from '@tickwork/core/store';
import type { MigrateResult } from './migrate.js';
import type { PoolConfig } from 'pg';
import { ormDialect, ormPgSource, ormSqliteSource } from './connection/orm.js';
import { driverPackagePath } from './connection/drivers.js';
import { ownPool, PgConnection } from './connection/pg.js';
import { ownSqliteFile, SqliteConnection } from './connection/sqlite.js';
import { COMPAT_TABLE, type CompatRow, MIGRATIONS_TABLE } from './migrations/names.js';
import { checkOptions, pgBounds, type PostgresConnectionOptions, type SqliteConnectionOptions, type SqlStoreOptions } from './options.js';
import { PgStore } from './pg-store.js';
import { toDate } from './rows.js';
import { checkAppliedMigrations } from './schema-check.js';
import { SqliteStore } from './sqlite-store.js';

/** pg settings and a "host:port/db" label for the store's own PostgreSQL pool. */
export function pgPoolConfig(options: PostgresConnectionOptions): { config: PoolConfig; where: string } {
  const url = options.clientUrl === undefined ? undefined : new URL(options.clientUrl);
  const host = options.host ?? (url?.hostname || 'localhost');
  const port = options.port ?? (Number(url?.port) || 5432);
  const database = options.dbName ?? (url ? decodeURIComponent(url.pathname.slice(1)) : '');
  const config: PoolConfig = {
    ...(options.clientUrl === undefined ? {} : { connectionString: options.clientUrl }),
    host,
    port,
    ...(database ? { database } : {}),
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.password === undefined ? {} : { password: options.password }),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // Names the schema so a DBA (and the restart test) can tell which store a backend serves.
    application_name: `tickwork:${options.schema ?? 'public'}`,
    // Idle pooled connections never keep a one-shot `tickwork run` process alive.
    allowExitOnIdle: true,
  };
  return { config, where: `${host}:${port}/${database}` };
}

/**
 * The store's own connections: {@link pgPoolConfig} plus the bounds of every call (server-side
 * statement and lock timeouts, a client-side query timeout, TCP keepalive). Not for `migrate()`,
 * whose statements (index builds) and advisory-lock wait may rightly take longer.
 */
export function pgStoreConfig(options: PostgresConnectionOptions): { config: PoolConfig; where: string } {
  const { config, where } = pgPoolConfig(options);
  const bounds = pgBounds(options);
  return {
    where,
    config: {
      ...config,
      statement_timeout: bounds.statementTimeoutMs,
      lock_timeout: bounds.lockTimeoutMs,
      query_timeout: bounds.queryTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: bounds.keepAliveDelayMs,
    },
  };
}

/** The schema a PostgreSQL store uses. */
export function schemaOf(options: SqlStoreOptions): string {
  if ('orm' in options) return options.schema ?? (options.orm.config.get('schema') as string | undefined) ?? 'public';
  return options.driver === 'postgresql' ? (options.schema ?? 'public') : '';
}

/** A dialect store plus the query that reads which migrations are applied. */
function openInner(options: SqlStoreOptions): {
  store: Store;
  applied(): Promise<string[]>;
  /**
   * The applied migrations and a ping's answer in one statement (PostgreSQL): a store's first
   * call is usually the clock sync's ping, which reads nothing of the schema, so its schema check
   * need not be a round trip of its own.
   */
  appliedWithPing?(): Promise<{ names: string[]; ping: Awaited<ReturnType<Store['ping']>> }>;
  compat(): Promise<CompatRow[]>;
  where: string;
} {
  const dialect = 'orm' in options ? ormDialect(options.orm) : options.driver;
  // A missing driver package fails here, at creation, naming the package to install (an injected SQLite ORM brings its own).
  if (!('orm' in options) || dialect === 'postgresql') driverPackagePath(dialect);
  if (dialect === 'postgresql') {
    const schema = schemaOf(options);
    const source =
      'orm' in options
        ? ormPgSource(options.orm)
        : (() => {
            const { config, where } = pgStoreConfig(options as PostgresConnectionOptions);
            return ownPool(config, where);
          })();
    const db = new PgConnection(source);
    return {
      store: new PgStore(db, schema, !('orm' in options)),
      where: `${source.where} schema "${schema}"`,
      applied: async () =>
        (await db.query<{ name: string }>(`SELECT name FROM "${schema}".${MIGRATIONS_TABLE}`, [], 'schema check', true)).map((r) => r.name),
      appliedWithPing: async () => {
        const started = performance.now();
        const rows = await db.query<{ names: string[]; now: Date }>(
          `SELECT ARRAY(SELECT name FROM "${schema}".${MIGRATIONS_TABLE}) AS names, now() AS now`,
          [],
          'schema check',
          true,
        );
        const row = rows[0]!;
        return { names: row.names, ping: { latencyMs: performance.now() - started, serverTime: toDate(row.now) } };
      },
      compat: () =>
        db.query<CompatRow>(
          `SELECT name, version, oldest_version, oldest_release, applied_by FROM "${schema}".${COMPAT_TABLE}`,
          [],
          'schema check',
          true,
        ),
    };
  }
  const own = options as SqliteConnectionOptions;
  const source = 'orm' in options ? ormSqliteSource(options.orm) : ownSqliteFile(own.dbName, own.busyTimeoutMs ?? 5000);
  const db = new SqliteConnection(source);
  return {
    store: new SqliteStore(db, !('orm' in options)),
    where: `SQLite file ${source.file}`,
    applied: async () => (await db.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`, [], 'schema check')).map((r) => r.name),
    compat: () =>
      db.query<CompatRow>(`SELECT name, version, oldest_version, oldest_release, applied_by FROM ${COMPAT_TABLE}`, [], 'schema check'),
  };
}

/** The SQL store: a core `Store` plus the `migrate()` hook `tickwork migrate` calls. */
export interface SqlStore extends Store {
  /** Applies this version's migrations to the store's database (same as `migrate(options)`). */
  migrate(): Promise<MigrateResult>;
}

/**
 * Creates the SQL store. Nothing is opened until the first call; that call first checks
 * (one query) that the schema is exactly the one this version ships, and fails with
 * StoreSchemaError naming `tickwork migrate` otherwise.
 */
export function createSqlStore(options: SqlStoreOptions): SqlStore {
  const inner = openInner(checkOptions(options));
  const target = inner.store;
  let ready: Promise<void> | undefined;
  const check = async (names: string[]): Promise<void> => {
    await checkAppliedMigrations(names, inner.where, () => inner.compat());
  };
  // Only success is remembered: after an outage or a migration, the next call checks again.
  const remember = (checking: Promise<void>): Promise<void> => {
    ready = checking;
    checking.catch(() => {
      if (ready === checking) ready = undefined;
    });
    return checking;
  };
  const ensureReady = (): Promise<void> => ready ?? remember(inner.applied().then(check));
  const { appliedWithPing } = inner;
  const hooks: StoreHooks = { before: ensureReady };
  if (appliedWithPing) {
    // The first ping is answered by the schema check's own statement (one round trip, not two); it
    // still fails as the check does (StoreSchemaError) before answering anything. The statement is
    // sent from `before`, synchronously, so a call started beside it waits for this check instead
    // of sending one of its own; the ping whose `before` sent it takes its answer.
    let firstPing: Promise<Awaited<ReturnType<Store['ping']>>> | undefined;
    hooks.before = (operation) => {
      if (operation !== 'ping' || ready) return ensureReady();
      const answer = appliedWithPing().then(async ({ names, ping }) => {
        await check(names);
        return ping;
      });
      firstPing = answer;
      answer.catch(() => {
        if (firstPing === answer) firstPing = undefined;
      });
      return remember(answer.then(() => undefined));
    };
    hooks.replace = {
      ping() {
        const answer = firstPing;
        firstPing = undefined;
        return answer ?? target.ping();
      },
    };
  }
  const store = decorateStore(target, hooks) as SqlStore;
  store.migrate = async () => {
    const { migrate } = await import('./migrate.js');
    const result = await migrate(options);
    ready = undefined;
    return result;
  };
  return store;
}
