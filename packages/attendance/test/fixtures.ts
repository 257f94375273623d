import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/core';
import { MikroORM as PostgresOrm } from '@mikro-orm/postgresql';
import { MikroORM as SqliteOrm } from '@mikro-orm/libsql';
import { attendanceEntities, markAbsent, migrateAttendance, type MarkAbsentCounts } from '../src/index.js';

const execFileAsync = promisify(execFile);
const PACKAGE_DIR = new URL('..', import.meta.url).pathname;
/** The built package, which the SQLite second runner imports in its own process. */
const DIST = new URL('../dist/index.js', import.meta.url).href;

/** PostgreSQL URL of the test database. */
export const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const PG_HINT = 'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or set TICKWORK_PG_URL)';

/** One isolated database: its own PostgreSQL schema or its own SQLite file. */
export interface Database {
  readonly dialect: 'postgresql' | 'sqlite';
  /** The first ORM, migrated. */
  readonly orm: MikroORM;
  /** Another ORM (own connection pool) on the same data: a second runner. */
  connect(): Promise<MikroORM>;
  /**
   * Runs `markAbsent` as a second runner: on PostgreSQL on another ORM of this process, on
   * SQLite in a child process (libsql runs statements synchronously, so two connections of
   * one process waiting on each other's write lock would block the event loop both need).
   */
  markAbsentElsewhere(options: { now: Date; batchSize: number }): Promise<MarkAbsentCounts>;
  /** Attendance rows of an event, by member id. */
  records(eventId: number): Promise<{ memberId: number; status: string; checkedAt: Date | null }[]>;
  /** SQL statements the first ORM sent since the last {@link Database.resetQueries}. */
  readonly queries: string[];
  resetQueries(): void;
  /** Whether the event is closed, and when. */
  closedAt(eventId: number): Promise<Date | null>;
  close(): Promise<void>;
}

/** The two databases every behaviour is shown on. */
export const DIALECTS = ['postgresql', 'sqlite'] as const;

/** Opens an isolated, migrated database of the given dialect. */
export async function openDatabase(dialect: 'postgresql' | 'sqlite'): Promise<Database> {
  const id = randomBytes(5).toString('hex');
  const opened: MikroORM[] = [];
  const queries: string[] = [];
  // Only the first ORM's statements are recorded; later ones are other runners.
  const recordFor = (first: boolean) => (sql: string) => {
    if (first) queries.push(sql);
    return sql;
  };
  let connect: () => Promise<MikroORM>;
  let markAbsentElsewhere: Database['markAbsentElsewhere'];
  let cleanup: () => Promise<void>;
  if (dialect === 'postgresql') {
    const schema = `attendance_test_${id}`;
    connect = async () => {
      const orm = await PostgresOrm.init({
        clientUrl: PG_URL,
        schema,
        entities: [...attendanceEntities],
        pool: { min: 0, max: 3 },
        onQuery: recordFor(opened.length === 0),
      });
      const check = await orm.checkConnection();
      if (!check.ok) {
        await orm.close(true);
        throw new Error(`PostgreSQL at ${PG_URL} is unreachable (${check.reason}); ${PG_HINT}`);
      }
      opened.push(orm);
      return orm;
    };
    markAbsentElsewhere = async (options) => markAbsent(await connect(), options);
    cleanup = async () => {
      const orm = opened[0];
      if (orm) await orm.em.getConnection().execute(`drop schema if exists "${schema}" cascade`);
    };
  } else {
    const file = join(tmpdir(), `tickwork-attendance-${id}.sqlite`);
    connect = async () => {
      // libsql's busy timeout is 0; the host gives one so a second runner waits for the write lock.
      const orm = await SqliteOrm.init({
        dbName: file,
        entities: [...attendanceEntities],
        driverOptions: { connection: { timeout: 5000 } },
        onQuery: recordFor(opened.length === 0),
      });
      opened.push(orm);
      return orm;
    };
    markAbsentElsewhere = async ({ now, batchSize }) => {
      const script = `import { MikroORM } from '@mikro-orm/libsql';
        import { attendanceEntities, markAbsent } from ${JSON.stringify(DIST)};
        const orm = await MikroORM.init({ dbName: ${JSON.stringify(file)}, entities: [...attendanceEntities], driverOptions: { connection: { timeout: 5000 } } });
        console.log(JSON.stringify(await markAbsent(orm, { now: new Date(${now.getTime()}), batchSize: ${batchSize} })));
        await orm.close();`;
      const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE_DIR });
      return JSON.parse(stdout) as MarkAbsentCounts;
    };
    cleanup = async () => {
      await rm(file, { force: true });
    };
  }
  const orm = await connect();
  await migrateAttendance(orm);
  const execute = (sql: string, params: unknown[] = []) =>
    orm.em.getConnection().execute(sql, params, 'all') as Promise<Record<string, unknown>[]>;
  const toDate = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string | number | Date));
  return {
    dialect,
    orm,
    connect,
    markAbsentElsewhere,
    queries,
    resetQueries: () => queries.splice(0),
    async records(eventId) {
      const rows = await execute(
        `select member_id, status, checked_at from ${table(orm, 'attendance_record')} where event_id = ? order by member_id`,
        [eventId],
      );
      return rows.map((row) => ({ memberId: Number(row.member_id), status: String(row.status), checkedAt: toDate(row.checked_at) }));
    },
    async closedAt(eventId) {
      const [row] = await execute(`select attendance_closed_at from ${table(orm, 'attendance_event')} where id = ?`, [eventId]);
      if (!row) throw new Error(`no event ${eventId}`);
      return toDate(row.attendance_closed_at);
    },
    async close() {
      try {
        await cleanup();
      } finally {
        for (const each of opened.reverse()) await each.close(true);
      }
    },
  };
}

/** A table name qualified with the ORM's schema (PostgreSQL). */
export function table(orm: MikroORM, name: string): string {
  const schema = orm.config.get('schema') as string | undefined;
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}

/** Minutes as milliseconds. */
export const minutes = (n: number): number => n * 60_000;
