/**
 * Isolated backends for the tests: a PostgreSQL schema with a random name (dropped in
 * cleanup) or a temp SQLite file. An unreachable PostgreSQL fails the test with how to
 * start it; it never skips.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

/** Where a fixture gets its migrated schema, and where the schema goes when the test is done with it. */
export interface MigratedSchemas {
  /** A migrated schema no test is using. */
  take(): Promise<string>;
  /** Takes back a schema from `take()` once every connection to it is closed. */
  give(schema: string): Promise<void>;
}

/** A schema migrated by the package's `migrate()` for each fixture, dropped afterwards. */
const migratedSchemas: MigratedSchemas = {
  take: async () => {
    const schema = randomSchema();
    await adminQuery('SELECT 1');
    await migrate(pgOptions(schema));
    return schema;
  },
  give: async (schema) => void (await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
};

const PLACEHOLDER = '__TICKWORK_SCHEMA__';

/** `pg_dump` of one schema as SQL for a plain query (psql's meta-commands such as \restrict dropped), its name a placeholder. */
async function dumpSchema(schema: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.env.TICKWORK_PG_DUMP ?? 'pg_dump',
    ['--dbname', PG_URL, '--schema', schema, '--inserts', '--no-owner', '--no-privileges', ...args],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n')
    .replaceAll(schema, PLACEHOLDER);
}

/**
 * Migrated schemas for a file whose every test needs one (the conformance suites). The first
 * `take()` migrates a template schema with `migrateInto` and reads it back with `pg_dump`: its
 * DDL and rows, and its rows alone. A later `take()` hands out a schema given back before or
 * replays the DDL and rows under a new name; `give()` empties every table of the schema and
 * writes the template's rows and sequence values back, so the next test finds it exactly as
 * migrated. Migrating costs about a second of MikroORM and catalog work per test and a
 * replay still hundreds of milliseconds on a busy machine; the reset is a few small DELETEs
 * and INSERTs in one round trip. `drop()` (in the file's afterAll) drops the schemas.
 * Without a usable `pg_dump` every `take()` migrates and every `give()` drops.
 */
export function pgSchemaTemplate(
  migrateInto: (schema: string) => Promise<unknown> = (schema) => migrate(pgOptions(schema)),
): MigratedSchemas & { drop(): Promise<void> } {
  interface Template {
    ddl: string;
    rows: string;
    reset: string;
  }
  let template: Promise<Template | null> | undefined;
  const idle: string[] = [];
  let resetChecked = false;
  const all = new Set<string>();
  let admin: pg.Client | undefined;
  const query = async (sql: string) => {
    if (!admin) {
      admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
    }
    await admin.query(sql);
  };

  const makeTemplate = async (): Promise<Template | null> => {
    const schema = randomSchema();
    await adminQuery('SELECT 1');
    all.add(schema);
    await migrateInto(schema);
    let ddl: string;
    let rows: string;
    try {
      [ddl, rows] = await Promise.all([dumpSchema(schema), dumpSchema(schema, '--data-only')]);
    } catch (error) {
      console.warn(
        `[store-sql tests] pg_dump failed (${(error as Error).message.split('\n')[0]}); every test migrates a schema of its own (slower)`,
      );
      await migratedSchemas.give(schema);
      all.delete(schema);
      return null;
    }
    if (!ddl.includes(`CREATE SCHEMA ${PLACEHOLDER};`)) throw new Error(`pg_dump of schema ${schema} has no CREATE SCHEMA`);
    const tables = await adminQuery<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1', [schema]);
    const empty = tables.map((t) => `DELETE FROM "${PLACEHOLDER}"."${t.tablename}";`).join('\n');
    idle.push(schema);
    return { ddl, rows, reset: `${empty}\n${rows}` };
  };

  return {
    async take() {
      template ??= makeTemplate();
      const sql = await template;
      if (!sql) return migratedSchemas.take();
      const reused = idle.pop();
      if (reused) return reused;
      const schema = randomSchema();
      all.add(schema);
      await query(sql.ddl.replaceAll(PLACEHOLDER, schema));
      return schema;
    },
    async give(schema) {
      const sql = await template;
      if (!sql || !all.has(schema)) return migratedSchemas.give(schema);
      await query(sql.reset.replaceAll(PLACEHOLDER, schema));
      if (!resetChecked) {
        // Once a file: the reset schema's rows and sequences read back as the template's did.
        const after = await dumpSchema(schema, '--data-only');
        if (after !== sql.rows) throw new Error(`schema ${schema} reset by the test fixture differs from the migrated template:\n${after}`);
        resetChecked = true;
      }
      idle.push(schema);
    },
    async drop() {
      try {
        for (const schema of all) await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        all.clear();
        idle.length = 0;
        await admin?.end();
        admin = undefined;
      }
    },
  };
}

/** A migrated schema of its own (from `schemas`: by default migrated for this fixture and dropped in `cleanup`). */
export async function pgFixture(schemas: MigratedSchemas = migratedSchemas): Promise<StoreFixture & { schema: string }> {
  const schema = await schemas.take();
  return {
    schema,
    open: async (): Promise<Store> => createSqlStore(pgOptions(schema)),
    cleanup: () => schemas.give(schema),
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

/** Creates a fresh migrated SQLite file in a temp directory of its own. */
export type MigratedFiles = () => Promise<ReturnType<typeof tempSqliteFile>>;

/** A fresh temp file migrated by the package's `migrate()`. */
const migratedFile: MigratedFiles = async () => {
  const temp = tempSqliteFile();
  await migrate({ driver: 'sqlite', dbName: temp.file });
  return temp;
};

/**
 * Fresh migrated SQLite files for a test file that needs one per test: the first call migrates a
 * template file with `migrateInto` and keeps its bytes (checkpointed: no WAL beside it); every
 * call writes them to a new temp file.
 */
export function sqliteFileTemplate(
  migrateInto: (file: string) => Promise<unknown> = (file) => migrate({ driver: 'sqlite', dbName: file }),
): MigratedFiles {
  let bytes: Promise<Buffer> | undefined;
  const takeBytes = async (): Promise<Buffer> => {
    const template = tempSqliteFile();
    try {
      await migrateInto(template.file);
      const db = new Database(template.file);
      try {
        db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
      if (existsSync(`${template.file}-wal`) && readFileSync(`${template.file}-wal`).length > 0) {
        throw new Error('the migrated template SQLite file still has a WAL after its last connection closed');
      }
      return readFileSync(template.file);
    } finally {
      template.remove();
    }
  };
  return async () => {
    bytes ??= takeBytes();
    const content = await bytes;
    const temp = tempSqliteFile();
    writeFileSync(temp.file, content);
    return temp;
  };
}

/** A migrated temp SQLite file (from `files`: by default migrated for this fixture); `cleanup` deletes it. */
export async function sqliteFixture(files: MigratedFiles = migratedFile): Promise<StoreFixture & { file: string }> {
  const temp = await files();
  return {
    file: temp.file,
    open: async (): Promise<Store> => createSqlStore({ driver: 'sqlite', dbName: temp.file }),
    cleanup: async () => temp.remove(),
  };
}

/** A runtime schedule for `ref`: every minute, a small payload, enabled. */
export function runtimeSchedule(ref: ScheduleRef): RuntimeScheduleInput {
  return {
    ...ref,
    schedule: { kind: 'every', everyMs: 60_000 },
    timezone: null,
    payload: { tenant: 1 },
    enabled: true,
    startAt: null,
    expiresAt: null,
    description: null,
    options: {},
  };
}

/**
 * What a {@link pgRelay} lets through and shows: `open()` false passes no byte either way;
 * `serverData` sees each chunk from the server with the client connection it goes to (a client's
 * messages can be framed across chunks, never across connections).
 */
export interface PgRelayHooks {
  open?(): boolean;
  serverData?(chunk: Buffer, connection: Socket): void;
}

/**
 * A loopback TCP relay to PostgreSQL ({@link PG_URL}); returns the URL to connect through it. Its
 * sockets and listener are closed by the step pushed on `undo`.
 */
export async function pgRelay(undo: (() => Promise<unknown>)[], hooks: PgRelayHooks = {}): Promise<string> {
  const target = new URL(PG_URL);
  const open = hooks.open ?? (() => true);
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host: target.hostname, port: Number(target.port || 5432) });
    sockets.add(inbound).add(outbound);
    inbound.on('data', (chunk: Buffer) => void (open() && outbound.write(chunk)));
    outbound.on('data', (chunk: Buffer) => {
      if (!open()) return;
      inbound.write(chunk);
      hooks.serverData?.(chunk, inbound);
    });
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close).on('close', close);
    outbound.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  undo.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  const url = new URL(PG_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}
