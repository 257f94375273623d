/**
 * Raw parameterised SQL on SQLite through a better-sqlite3-compatible connection: the
 * store's own is `libsql`'s (loaded on first use from `@mikro-orm/libsql`), an injected
 * ORM lends its `@mikro-orm/libsql` (or `@mikro-orm/better-sqlite`) connections. One
 * connection per store, used by one operation at a time; writes run in
 * `BEGIN IMMEDIATE` transactions so several processes on one file serialise cleanly.
 */
import { resolve } from 'node:path';
import { sqliteError } from '../errors.js';
import { loadDriver, withPropertyDuringLoad } from './drivers.js';

/**
 * One queue per file per process. Statements run synchronously, but a transaction spans
 * several awaited steps: without the queue a second operation of this process could run
 * its statements inside another's open transaction. Serialising in-process access per
 * file leaves SQLite's busy wait to other processes only (a writer of another process
 * holding the lock makes this one wait, blocking its event loop, up to `busyTimeoutMs`).
 */
const fileQueues = new Map<string, Promise<unknown>>();

/** A prepared statement of a better-sqlite3-compatible connection. */
interface SqliteStatement {
  /** True when the statement returns rows (SELECT, PRAGMA, … RETURNING). */
  readonly reader: boolean;
  all(params: unknown[]): unknown[];
  run(params: unknown[]): unknown;
}

/** The part of a better-sqlite3-compatible connection (libsql, better-sqlite3) the store uses. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  close(): void;
}

/** A statement runner inside one transaction. */
export interface SqliteTx {
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** Where the SQLite connection comes from. */
export interface SqliteSource {
  readonly file: string;
  acquire(): Promise<{ db: SqliteDatabase; release(): void }>;
  close(): Promise<void>;
}

type LibsqlModule = new (file: string, options?: { timeout?: number }) => SqliteDatabase;

/**
 * A parameter as the driver binds it: libsql binds every JS number as REAL and aborts the
 * process on a boolean, so integers go as BigInt (INTEGER), booleans as 0/1 and Dates as
 * epoch milliseconds, like sqlite3 did.
 */
function bindable(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (value instanceof Date) return BigInt(value.getTime());
  if (value === undefined) return null;
  return value;
}

/** Prepared statements per connection: parsing SQL costs more than running these short statements. */
const statementCache = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();

/** Runs one statement (prepared once per connection) and returns its rows (none for a non-reader). */
export async function runStatement<T>(db: SqliteDatabase, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  let cache = statementCache.get(db);
  if (!cache) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    // A statement that fails to prepare (missing table, …) throws here and is never cached.
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  const bound = params.map(bindable);
  if (statement.reader) return statement.all(bound) as T[];
  statement.run(bound);
  return [];
}

/** This process's memory map, whose shared objects name its C library (Linux only). */
function readOwnMaps(): string {
  return process.getBuiltinModule('node:fs').readFileSync('/proc/self/maps', 'latin1');
}

/**
 * Runs `load` (libsql's synchronous `require`) with the first `process.report.getReport()` answered from
 * this process's memory map. libsql's loader (`@neon-rs/load`) asks for a whole diagnostic report only to
 * see whether the C library is glibc (its header has `glibcVersionRuntime`), which costs 6–12 ms of CPU on
 * every SQLite tick; the map answers that in well under a millisecond. Only a map that plainly shows glibc
 * (a `libc.so.6`, nothing of musl) is used: otherwise, and for every later call in the window, the real
 * report answers. `process.report` is put back as it was.
 */
export function withGlibcAnswer<T>(load: () => T, readMaps: () => string = readOwnMaps): T {
  if (process.platform !== 'linux') return load();
  const descriptor = Object.getOwnPropertyDescriptor(process, 'report');
  if (!descriptor?.configurable) return load();
  let glibc: boolean;
  try {
    const maps = readMaps();
    glibc = /\/libc\.so\.6$/m.test(maps) && !/ld-musl-|libc\.musl-/.test(maps);
  } catch {
    return load();
  }
  if (!glibc) return load();
  const real = process.report;
  let answered = false;
  const standIn = {
    getReport(...args: unknown[]): object {
      if (answered || args.length > 0) return real.getReport(...(args as Parameters<typeof real.getReport>));
      answered = true;
      return { header: { glibcVersionRuntime: 'glibc (from /proc/self/maps)' } };
    },
  };
  return withPropertyDuringLoad(process, 'report', descriptor, standIn, load);
}

/** The store's own file connection, opened on first use with WAL and a busy timeout. */
export function ownSqliteFile(file: string, busyTimeoutMs: number): SqliteSource {
  let opened: Promise<SqliteDatabase> | undefined;
  const open = async (): Promise<SqliteDatabase> => {
    const Database = withGlibcAnswer(() => loadDriver<LibsqlModule>('sqlite'));
    const db = new Database(file);
    try {
      await runStatement(db, `PRAGMA busy_timeout = ${busyTimeoutMs}`);
      // WAL is persistent (migrate() sets it); switching needs an exclusive lock, so only do it when needed.
      const mode = await runStatement<{ journal_mode: string }>(db, 'PRAGMA journal_mode');
      if (mode[0]?.journal_mode !== 'wal') await runStatement(db, 'PRAGMA journal_mode = WAL');
      await runStatement(db, 'PRAGMA synchronous = NORMAL');
    } catch (error) {
      statementCache.delete(db);
      db.close();
      throw error;
    }
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
        statementCache.delete(db);
        db.close();
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

  private exclusive<T>(operation: string, fn: (db: SqliteDatabase) => Promise<T>): Promise<T> {
    const previous = fileQueues.get(this.queueKey) ?? Promise.resolve();
    const result = previous.then(async () => {
      let lease: { db: SqliteDatabase; release(): void } | undefined;
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
    return this.exclusive(operation, (db) => runStatement<T>(db, sql, params));
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: the file's write lock is held from the start, so reads inside see the final state. */
  transaction<T>(operation: string, fn: (tx: SqliteTx) => Promise<T>): Promise<T> {
    return this.exclusive(operation, async (db) => {
      await runStatement(db, 'BEGIN IMMEDIATE');
      try {
        const result = await fn({ all: (sql, params) => runStatement(db, sql, params) });
        await runStatement(db, 'COMMIT');
        return result;
      } catch (error) {
        await runStatement(db, 'ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return (fileQueues.get(this.queueKey) ?? Promise.resolve()).then(() => this.source.close());
  }
}
