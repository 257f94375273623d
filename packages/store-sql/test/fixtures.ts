/**
 * Isolated backends for the tests: a PostgreSQL schema with a random name (dropped in
 * cleanup) or a temp SQLite file. An unreachable PostgreSQL fails the test with how to
 * start it; it never skips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import pg from 'pg';
import type { ScheduleRef, Store } from '@tickwork/core';
import type { RuntimeScheduleInput } from '@tickwork/core/store';
import type { StoreFixture } from '@tickwork/store-conformance';
import { createSqlStore, migrate, type SqlStoreOptions } from '../src/index.js';

/** The test database. */
export const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs admin SQL on the test database (schema create/drop, pg_terminate_backend). */
export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`,
      { cause: error },
    );
  }
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh random schema name. */
export function randomSchema(): string {
  return `tw_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Options of a store on `schema`. */
export function pgOptions(schema: string): SqlStoreOptions {
  return { driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 3 };
}

/** A migrated schema of its own; `cleanup` drops it. */
export async function pgFixture(): Promise<StoreFixture & { schema: string }> {
  const schema = randomSchema();
  await adminQuery('SELECT 1');
  await migrate(pgOptions(schema));
  return {
    schema,
    open: async (): Promise<Store> => createSqlStore(pgOptions(schema)),
    cleanup: async () => {
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** A temp directory with a fresh SQLite file path; `cleanup` removes it. */
export function tempSqliteFile(): { file: string; dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-sql-'));
  return { file: join(dir, 'tickwork.db'), dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs raw SQL on an SQLite file with a connection of its own (seeding, inspecting); returns the last statement's rows. */
export function rawSqlite<T = Record<string, unknown>>(file: string, ...statements: string[]): T[] {
  const db = new Database(file);
  try {
    let rows: T[] = [];
    for (const sql of statements) {
      const statement = db.prepare(sql);
      rows = statement.reader ? (statement.all() as T[]) : (statement.run(), []);
    }
    return rows;
  } finally {
    db.close();
  }
}

/** A migrated temp SQLite file; `cleanup` deletes it. */
export async function sqliteFixture(): Promise<StoreFixture & { file: string }> {
  const temp = tempSqliteFile();
  await migrate({ driver: 'sqlite', dbName: temp.file });
  return {
    file: temp.file,
    open: async (): Promise<Store> => createSqlStore({ driver: 'sqlite', dbName: temp.file }),
    cleanup: async () => temp.remove(),
  };
}

/** A runtime schedule for `ref`: every minute, a small payload, enabled. */
export function runtimeSchedule(ref: ScheduleRef): RuntimeScheduleInput {
  return {
    ...ref, schedule: { kind: 'every', everyMs: 60_000 }, timezone: null, payload: { tenant: 1 }, enabled: true,
    startAt: null, expiresAt: null, description: null, options: {},
  };
}
