/**
 * Raw parameterised SQL on SQLite through `sqlite3`, imported on first use. One
 * connection per store, used by one operation at a time; writes run in
 * `BEGIN IMMEDIATE` transactions so several processes on one file serialise cleanly.
 */
import { resolve } from 'node:path';
import type { Database, Statement } from 'sqlite3';
import { sqliteError } from '../errors.js';

/**
 * One queue per file per process. sqlite3 runs statements on libuv's small thread pool;
 * if several connections of one process sat in SQLite's busy wait, they could occupy
 * every thread while the lock holder waits for one to COMMIT. Serialising in-process
 * access per file leaves the busy wait to other processes only.
 */
const fileQueues = new Map<string, Promise<unknown>>();

/** A statement runner inside one transaction. */
export interface SqliteTx {
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** Where the SQLite connection comes from. */
export interface SqliteSource {
  readonly file: string;
  acquire(): Promise<{ db: Database; release(): void }>;
  close(): Promise<void>;
}

type Sqlite3Module = typeof import('sqlite3');
let sqliteModule: Promise<Sqlite3Module> | undefined;
function loadSqlite(): Promise<Sqlite3Module> {
  sqliteModule ??= import('sqlite3').then((m) => ((m as unknown as { default?: Sqlite3Module }).default ?? m) as Sqlite3Module);
  return sqliteModule;
}

function all<T>(db: Database, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    db.all(sql, params as unknown[], (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows)));
  });
}

/** Prepared statements of the store's own connections: parsing SQL costs more than running these short statements. */
const statementCache = new WeakMap<Database, Map<string, Statement>>();

async function prepared<T>(db: Database, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  const cache = statementCache.get(db);
  if (!cache) return all(db, sql, params);
  let statement = cache.get(sql);
  if (!statement) {
    // A statement that fails to prepare (missing table, …) rejects here and is never cached.
    statement = await new Promise<Statement>((resolve, reject) => {
      const created: Statement = db.prepare(sql, (error: Error | null) => (error ? reject(error) : resolve(created)));
    });
    cache.set(sql, statement);
  }
  const ready = statement;
  return new Promise((resolve, reject) => {
    ready.all(params as unknown[], (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows)));
  });
}

function finalizeAll(db: Database): Promise<void> {
  const cache = statementCache.get(db);
  statementCache.delete(db);
  return Promise.all([...(cache?.values() ?? [])].map((st) => new Promise<void>((resolve) => st.finalize(() => resolve())))).then(() => {});
}

/** The store's own file connection, opened on first use with WAL and a busy timeout. */
export function ownSqliteFile(file: string, busyTimeoutMs: number): SqliteSource {
  let opened: Promise<Database> | undefined;
  const open = async (): Promise<Database> => {
    const sqlite3 = await loadSqlite();
    const db = await new Promise<Database>((resolve, reject) => {
      const created: Database = new sqlite3.Database(file, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE, (error) =>
        error ? reject(error) : resolve(created),
      );
    });
    try {
      await all(db, `PRAGMA busy_timeout = ${busyTimeoutMs}`);
      // WAL is persistent (migrate() sets it); switching needs an exclusive lock, so only do it when needed.
      const mode = await all<{ journal_mode: string }>(db, 'PRAGMA journal_mode');
      if (mode[0]?.journal_mode !== 'wal') await all(db, 'PRAGMA journal_mode = WAL');
      await all(db, 'PRAGMA synchronous = NORMAL');
    } catch (error) {
      db.close();
      throw error;
    }
    statementCache.set(db, new Map());
    return db;
  };
  return {
    file,
    async acquire() {
      opened ??= open();
      try {
        return { db: await opened, release: () => {} };
      } catch (error) {
        opened = undefined;
        throw error;
      }
    },
    async close() {
      const db = opened ? await opened.catch(() => undefined) : undefined;
      opened = undefined;
      if (db) {
        await finalizeAll(db);
        await new Promise<void>((resolve) => db.close(() => resolve()));
      }
    },
  };
}

/** Runs statements and transactions on a {@link SqliteSource}, one at a time. */
export class SqliteConnection {
  private readonly queueKey: string;

  constructor(readonly source: SqliteSource) {
    this.queueKey = source.file === ':memory:' ? `:memory:${Math.random()}` : resolve(source.file);
  }

  private exclusive<T>(operation: string, fn: (db: Database) => Promise<T>): Promise<T> {
    const previous = fileQueues.get(this.queueKey) ?? Promise.resolve();
    const result = previous.then(async () => {
      let lease: { db: Database; release(): void } | undefined;
      try {
        lease = await this.source.acquire();
        return await fn(lease.db);
      } catch (error) {
        throw sqliteError(error, this.source.file, operation);
      } finally {
        lease?.release();
      }
    });
    const settled = result.catch(() => {});
    fileQueues.set(this.queueKey, settled);
    void settled.then(() => {
      if (fileQueues.get(this.queueKey) === settled) fileQueues.delete(this.queueKey);
    });
    return result;
  }

  /** Runs one statement outside a transaction. */
  query<T>(sql: string, params: readonly unknown[], operation: string): Promise<T[]> {
    return this.exclusive(operation, (db) => prepared<T>(db, sql, params));
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: the file's write lock is held from the start, so reads inside see the final state. */
  transaction<T>(operation: string, fn: (tx: SqliteTx) => Promise<T>): Promise<T> {
    return this.exclusive(operation, async (db) => {
      await all(db, 'BEGIN IMMEDIATE');
      try {
        const result = await fn({ all: (sql, params) => prepared(db, sql, params) });
        await all(db, 'COMMIT');
        return result;
      } catch (error) {
        await all(db, 'ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return (fileQueues.get(this.queueKey) ?? Promise.resolve()).then(() => this.source.close());
  }
}
