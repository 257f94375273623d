/**
 * Turns driver errors (pg, libsql) into Tickwork's error classes, so a host can
 * `instanceof` them and every message says what to do next.
 */
import { InvalidArgumentError, isTickworkError, messagePrefix, StoreSchemaError, StoreUnavailableError } from '@tickwork/core';

/** The prefix of every message this package writes. */
export const PREFIX = messagePrefix('store-sql');

/** What the message of an unreachable server tells the user to do, in terms that hold on any machine. */
export const START_POSTGRES_HINT =
  'start the PostgreSQL server (for example with your service manager, or `pg_ctl start` for a local cluster) or fix the connection options';

/** An option passed to `createSqlStore` / `migrate` is invalid. */
export class SqlStoreOptionsError extends InvalidArgumentError {}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

function asDriverError(error: unknown): DriverError {
  return typeof error === 'object' && error !== null ? (error as DriverError) : { message: String(error) };
}

/** True when a PostgreSQL error means the connection (not the statement) failed. */
export function isPgConnectionError(error: unknown): boolean {
  const e = asDriverError(error);
  const code = e.code ?? '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  const message = e.message ?? '';
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|Client was closed|Query read timeout/i.test(message);
}

/** True when the client gave up waiting for a statement's answer (`queryTimeoutMs`): the outcome is unknown, the connection unusable. */
export function isPgQueryTimeout(error: unknown): boolean {
  return /Query read timeout/.test(asDriverError(error).message ?? '');
}

/** True when the server cancelled a statement at its statement or lock timeout (57014 query_canceled, 55P03 lock_not_available). */
export function isPgTimeout(error: unknown): boolean {
  const code = asDriverError(error).code;
  return code === '57014' || code === '55P03';
}

/** True when the statement certainly never reached the server, so a retry cannot run it twice. */
export function isPgNotSent(error: unknown): boolean {
  const e = asDriverError(error);
  // 57P01: the server killed the backend before the statement committed (autocommit statements only).
  if (e.code === '57P01' || e.code === 'ECONNREFUSED') return true;
  return /not queryable|Client was closed/i.test(e.message ?? '');
}

/**
 * True when PostgreSQL aborted the statement to break a deadlock (40P01) or a serialization
 * conflict (40001): the whole transaction was rolled back, so an autocommit statement may run again.
 */
export function isPgConflict(error: unknown): boolean {
  const code = asDriverError(error).code;
  return code === '40P01' || code === '40001';
}

/**
 * True when an error is about reaching the database at all (network, credentials, missing database, read-only
 * file), not about a statement.
 */
export function isAccessError(error: unknown): boolean {
  const e = asDriverError(error);
  const code = e.code ?? '';
  return (
    isPgConnectionError(error) ||
    code.startsWith('28') ||
    code === '3D000' ||
    code === 'SQLITE_READONLY' ||
    isSqliteCantOpen(e) ||
    /readonly|read-only/i.test(e.message ?? '')
  );
}

/** Maps a pg error to a Tickwork error naming where the server is. */
export function pgError(error: unknown, where: string, operation: string): Error {
  if (isTickworkError(error)) return error;
  const e = asDriverError(error);
  const code = e.code ?? '';
  const detail = e.message ?? String(error);
  if (code === '28P01' || code === '28000') {
    return new StoreUnavailableError(
      `${PREFIX} ${operation}: PostgreSQL at ${where} refused the credentials (${detail}); check the user and password in clientUrl`,
      { cause: error },
    );
  }
  if (code === '3D000') {
    return new StoreUnavailableError(
      `${PREFIX} ${operation}: PostgreSQL at ${where}: ${detail}; create the database or fix dbName/clientUrl`,
      { cause: error },
    );
  }
  if (code === '42P01' || code === '42883' || code === '3F000') {
    return new StoreSchemaError(
      `${PREFIX} ${operation}: the Tickwork tables are missing at ${where} (${detail}); run \`tickwork migrate\``,
      { cause: error },
    );
  }
  if (isPgQueryTimeout(error)) {
    return new StoreUnavailableError(
      `${PREFIX} ${operation}: PostgreSQL at ${where} did not answer within queryTimeoutMs (the connection was dropped; a write may or may not have happened)`,
      { cause: error },
    );
  }
  if (isPgTimeout(error)) {
    const what =
      asDriverError(error).code === '55P03'
        ? 'waited longer than lockTimeoutMs for a lock another session holds'
        : 'ran longer than statementTimeoutMs';
    return new StoreUnavailableError(
      `${PREFIX} ${operation}: PostgreSQL at ${where} cancelled the statement, which ${what} (${detail}); nothing was changed`,
      { cause: error },
    );
  }
  if (isPgConnectionError(error)) {
    return new StoreUnavailableError(`${PREFIX} ${operation}: cannot reach PostgreSQL at ${where} (${detail}); ${START_POSTGRES_HINT}`, {
      cause: error,
    });
  }
  return new StoreUnavailableError(`${PREFIX} ${operation}: PostgreSQL at ${where} failed: ${detail}`, { cause: error });
}

/** libsql reports a file it cannot open as a plain Error "ConnectionFailed(… 14)" (14: SQLITE_CANTOPEN). */
function isSqliteCantOpen(e: DriverError): boolean {
  return e.code === 'SQLITE_CANTOPEN' || /ConnectionFailed\(.*: 14\)|unable to open database/i.test(e.message ?? '');
}

/** Maps a libsql error to a Tickwork error naming the file. */
export function sqliteError(error: unknown, file: string, operation: string): Error {
  if (isTickworkError(error)) return error;
  const e = asDriverError(error);
  const detail = e.message ?? String(error);
  if (e.code === 'SQLITE_READONLY' || /readonly|read-only/i.test(detail)) {
    return new StoreUnavailableError(
      `${PREFIX} ${operation}: SQLite file ${file} is read-only (${detail}); the store needs write access to the file and its directory (WAL and -shm files)`,
      { cause: error },
    );
  }
  if (/no such table|no such column/i.test(detail)) {
    return new StoreSchemaError(
      `${PREFIX} ${operation}: the Tickwork tables are missing in SQLite file ${file} (${detail}); run \`tickwork migrate\``,
      { cause: error },
    );
  }
  if (isSqliteCantOpen(e)) {
    return new StoreUnavailableError(
      `${PREFIX} ${operation}: cannot open SQLite file ${file} (${detail}); check that its directory exists and is writable`,
      { cause: error },
    );
  }
  return new StoreUnavailableError(`${PREFIX} ${operation}: SQLite file ${file} failed: ${detail}`, { cause: error });
}
