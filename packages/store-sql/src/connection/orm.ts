/**
 * Borrowing the host's MikroORM connections: the store runs the same raw SQL on the
 * driver connections of MikroORM's knex pool, so an injected ORM adds no second pool.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { ClientConfig, PoolClient } from 'pg';
import { PREFIX, SqlStoreOptionsError } from '../errors.js';
import type { PgSource } from './pg.js';
import { runStatement, type SqliteDatabase, type SqliteSource } from './sqlite.js';

interface KnexClient {
  dialect?: string;
  driverName?: string;
  connectionSettings?: unknown;
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

function knexClient(orm: MikroORM): KnexClient {
  const connection = orm.em.getConnection() as unknown as { getKnex?: () => { client: KnexClient } };
  if (typeof connection.getKnex !== 'function') {
    throw new SqlStoreOptionsError(`${PREFIX} option "orm" must use a SQL driver (@mikro-orm/postgresql or @mikro-orm/libsql)`);
  }
  return connection.getKnex().client;
}

/** Which database the host's ORM talks to. */
export function ormDialect(orm: MikroORM): 'postgresql' | 'sqlite' {
  const client = knexClient(orm);
  const name = `${client.dialect ?? ''} ${client.driverName ?? ''}`;
  if (/postgres|pg/i.test(name)) return 'postgresql';
  if (client.driverName === 'sqlite3') {
    // sqlite3's callback connections are not the synchronous better-sqlite3 API the store runs its statements on.
    throw new SqlStoreOptionsError(
      `${PREFIX} option "orm" uses @mikro-orm/sqlite (sqlite3); the SQLite store borrows connections of @mikro-orm/libsql or @mikro-orm/better-sqlite: switch the ORM's driver to LibSqlDriver from @mikro-orm/libsql`,
    );
  }
  if (/sqlite|libsql/i.test(name)) return 'sqlite';
  throw new SqlStoreOptionsError(
    `${PREFIX} option "orm" uses ${name.trim() || 'an unknown driver'}; only PostgreSQL and SQLite are supported`,
  );
}

/** PostgreSQL connections borrowed from the ORM's pool. */
export function ormPgSource(orm: MikroORM): PgSource {
  const client = knexClient(orm);
  const settings = (client.connectionSettings ?? {}) as ClientConfig & { connectionString?: string };
  const url = settings.connectionString ? new URL(settings.connectionString) : undefined;
  const where = `${url?.hostname ?? settings.host ?? 'localhost'}:${url?.port || settings.port || 5432}/${url?.pathname.slice(1) || settings.database || ''}`;
  return {
    where,
    async borrow() {
      const connection = (await client.acquireConnection()) as PoolClient;
      return { client: connection, release: () => void client.releaseConnection(connection) };
    },
    clientConfig: () => settings,
    close: async () => {},
  };
}

/** The SQLite connection borrowed from the ORM's pool. */
export function ormSqliteSource(orm: MikroORM, busyTimeoutMs = 5000): SqliteSource {
  const client = knexClient(orm);
  const prepared = new WeakSet<object>();
  const file = String(orm.config.get('dbName') ?? '(sqlite)');
  return {
    file,
    async acquire() {
      const db = (await client.acquireConnection()) as SqliteDatabase;
      if (!prepared.has(db)) {
        await runStatement(db, `PRAGMA busy_timeout = ${busyTimeoutMs}`);
        prepared.add(db);
      }
      return { db, release: () => void client.releaseConnection(db) };
    },
    close: async () => {},
  };
}
