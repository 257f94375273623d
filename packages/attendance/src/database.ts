import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { UnsupportedDatabaseError } from './errors.js';

/**
 * Where attendance data lives: the host's MikroORM instance, an EntityManager (used as is,
 * so calls join its transaction), or a function giving one (request-scoped managers).
 */
export type AttendanceDatabase = MikroORM | EntityManager | (() => EntityManager | Promise<EntityManager>);

/** The SQL dialects the set-based statements are written for. */
export type AttendanceDialect = 'postgresql' | 'sqlite';

/** Result of a raw write statement, as MikroORM reports it. */
interface WriteResult {
  affectedRows: number;
  rows?: Record<string, unknown>[];
}

/** Raw-SQL access to the attendance tables through one EntityManager (and its transaction, if any). */
export interface AttendanceSql {
  readonly em: EntityManager;
  readonly dialect: AttendanceDialect;
  /** The quoted, schema-qualified name of an attendance table. */
  table(name: AttendanceTable): string;
  /** An instant as the column stores it: ISO text cast in SQL on PostgreSQL, epoch milliseconds on SQLite. */
  instant(value: Date): string | number;
  /** SQL for "`startsAt` column plus `failMinutes` column", comparable with {@link instant}. */
  deadline(startsAt: string, failMinutes: string): string;
  /** A `?` placeholder for an instant (with its cast on PostgreSQL). */
  readonly instantParam: string;
  /** Reads an instant column value back. */
  toDate(value: unknown): Date | null;
  all<Row extends object>(sql: string, params?: unknown[]): Promise<Row[]>;
  write(sql: string, params?: unknown[]): Promise<WriteResult>;
}

/** The attendance tables. */
export type AttendanceTable = 'member' | 'group' | 'group_membership' | 'event' | 'record';

/** Gives a fresh EntityManager for a MikroORM instance, the manager itself, or the function's result. */
export async function resolveEntityManager(database: AttendanceDatabase): Promise<EntityManager> {
  if (typeof database === 'function') return database();
  if (isOrm(database)) return database.em.fork();
  return database;
}

/** Wraps an EntityManager for the raw statements, after checking its driver is supported. */
export function attendanceSql(em: EntityManager): AttendanceSql {
  const dialect = dialectOf(em);
  const schema = dialect === 'postgresql' ? (em.config.get('schema') as string | undefined) : undefined;
  const sqlEm = em as unknown as {
    execute(sql: string, params: unknown[], method: 'all' | 'run'): Promise<unknown>;
  };
  return {
    em,
    dialect,
    table: (name) => `${schema ? `"${schema}".` : ''}"attendance_${name}"`,
    instant: (value) => (dialect === 'postgresql' ? value.toISOString() : value.getTime()),
    deadline: (startsAt, failMinutes) =>
      dialect === 'postgresql' ? `(${startsAt} + ${failMinutes} * interval '1 minute')` : `(${startsAt} + ${failMinutes} * 60000)`,
    instantParam: dialect === 'postgresql' ? '?::timestamptz' : '?',
    toDate: (value) => {
      if (value === null || value === undefined) return null;
      return value instanceof Date
        ? value
        : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : (value as string | number));
    },
    all: async (sql, params = []) => (await sqlEm.execute(sql, params, 'all')) as never,
    write: async (sql, params = []) => (await sqlEm.execute(sql, params, 'run')) as WriteResult,
  };
}

function dialectOf(em: EntityManager): AttendanceDialect {
  const platform = em.getPlatform().constructor.name;
  if (platform === 'PostgreSqlPlatform') return 'postgresql';
  if (/Sqlite|LibSql/i.test(platform)) return 'sqlite';
  throw new UnsupportedDatabaseError(
    `the ORM's platform ${platform} is not supported; attendance runs on PostgreSQL (@mikro-orm/postgresql) or SQLite (@mikro-orm/sqlite, better-sqlite, libsql)`,
  );
}

function isOrm(value: AttendanceDatabase): value is MikroORM {
  return typeof value === 'object' && value !== null && 'em' in value && 'config' in value && !('fork' in value);
}
