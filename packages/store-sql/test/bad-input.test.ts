import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, StoreSchemaError, StoreUnavailableError } from '@tickwork/core';
import { claimFor } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, SqlStoreOptionsError, type SqlStoreOptions } from '../src/index.js';
import { adminQuery, PG_URL, pgOptions, randomSchema, rawSqlite, runtimeSchedule, tempSqliteFile } from './fixtures.js';

const DIST = new URL('../dist/index.js', import.meta.url).pathname;

async function schemaExists(schema: string): Promise<boolean> {
  return (await adminQuery(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])).length > 0;
}

describe('bad input fails early with a clear message and changes nothing', () => {
  const undo: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  it('an unreachable PostgreSQL (port 1) is StoreUnavailableError naming host and port and how to start PostgreSQL', async () => {
    const options: SqlStoreOptions = { driver: 'postgresql', clientUrl: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 2000 };
    const store = createSqlStore(options);
    undo.push(() => store.close());
    const error = await store.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/^\[tickwork\] \[store-sql\] .*127\.0\.0\.1:1\/test/);
    expect((error as Error).message).toContain('start the PostgreSQL server');
    expect((error as Error).message).not.toMatch(/pg_ctlcluster|\/etc\//);
    expect((error as Error).cause).toBeDefined();
    const migrating = await migrate(options).catch((e: unknown) => e);
    expect(migrating).toBeInstanceOf(StoreUnavailableError);
    expect((migrating as Error).message).toContain('127.0.0.1:1');
  });

  it('a role that does not exist is StoreUnavailableError about the credentials', async () => {
    const url = new URL(PG_URL);
    url.username = 'tickwork_no_such_role';
    const store = createSqlStore({ driver: 'postgresql', clientUrl: url.toString() });
    undo.push(() => store.close());
    const error = await store.getStates().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/refused the credentials .*tickwork_no_such_role/);
  });

  it('a PostgreSQL database without the migrations is StoreSchemaError telling to run `tickwork migrate`, and creates nothing', async () => {
    const schema = randomSchema();
    const store = createSqlStore(pgOptions(schema));
    undo.push(() => store.close());
    const error = await store.claimSlots([], { runnerId: 'r', now: new Date() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toContain('run `tickwork migrate`');
    expect(await schemaExists(schema)).toBe(false);
  });

  it('a schema newer than the package is refused by the store and by migrate()', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined));
    await migrate(pgOptions(schema));
    await adminQuery(`INSERT INTO "${schema}".tickwork_migrations (name) VALUES ('Migration20991231000000_from_the_future')`);
    const store = createSqlStore(pgOptions(schema));
    undo.push(() => store.close());
    const error = await store.getStates().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toMatch(/newer than this @tickwork\/store-sql.*Migration20991231000000_from_the_future/);
    await expect(migrate(pgOptions(schema))).rejects.toThrow(StoreSchemaError);
  });

  it('a migration that fails halfway leaves no table behind on PostgreSQL (transactional DDL)', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined));
    // A table in the way makes the migration's later CREATE TABLE fail after earlier ones ran.
    await adminQuery(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".tickwork_run_request (x int)`);
    const error = await migrate(pgOptions(schema)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toMatch(/\[tickwork\] \[store-sql\] migrate: .* rolled back/);
    const tables = await adminQuery<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [schema],
    );
    expect(tables.map((t) => t.table_name).filter((t) => t !== 'tickwork_migrations')).toEqual(['tickwork_run_request']);
    const applied = await adminQuery(`SELECT name FROM "${schema}".tickwork_migrations`).catch(() => []);
    expect(applied).toEqual([]);
  });

  it('a migration that fails halfway leaves no table behind on SQLite either', async () => {
    const temp = tempSqliteFile();
    undo.push(() => temp.remove());
    const blocker = createSqlStore({ driver: 'sqlite', dbName: temp.file });
    await blocker.ping().catch(() => undefined); // opens (creates) the file
    await blocker.close();
    rawSqlite(temp.file, 'CREATE TABLE tickwork_run_request (x INTEGER)');
    await expect(migrate({ driver: 'sqlite', dbName: temp.file })).rejects.toThrow(/\[tickwork\] \[store-sql\] migrate: .* rolled back/);
    const tables = rawSqlite<{ name: string }>(
      temp.file,
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'tickwork_%' ORDER BY name`,
    ).map((r) => r.name);
    expect(tables.filter((t) => t !== 'tickwork_migrations')).toEqual(['tickwork_run_request']);
  });

  it('an SQLite file without the migrations is StoreSchemaError telling to run `tickwork migrate`', async () => {
    const temp = tempSqliteFile();
    undo.push(() => temp.remove());
    const store = createSqlStore({ driver: 'sqlite', dbName: temp.file });
    undo.push(() => store.close());
    await expect(store.getStates()).rejects.toThrow(/StoreSchemaError|run `tickwork migrate`/);
    await expect(store.getStates()).rejects.toBeInstanceOf(StoreSchemaError);
  });

  it('invalid options are SqlStoreOptionsError naming the field, before anything is opened', () => {
    expect(() => createSqlStore({ driver: 'postgresql', clientUrl: 'not a url' })).toThrow(/option "clientUrl" is not a valid URL/);
    expect(() => createSqlStore({ driver: 'postgresql', clientUrl: 'mysql://root@localhost/db' })).toThrow(
      /option "clientUrl" must start with postgres:\/\//,
    );
    expect(() => createSqlStore({ driver: 'postgresql', clientUrl: PG_URL, schema: 'Robert"; DROP' })).toThrow(/option "schema"/);
    expect(() => createSqlStore({ driver: 'mysql' } as never)).toThrow(/option "driver" must be "postgresql" or "sqlite"/);
    expect(() => createSqlStore({ driver: 'sqlite', dbName: 'x.db', schema: 'nope' } as never)).toThrow(
      /option "schema" is not an option of the sqlite store/,
    );
    expect(() => createSqlStore({ driver: 'sqlite', dbName: '' })).toThrow(SqlStoreOptionsError);
    // The change channel "tickwork_changes:<schema>" must fit PostgreSQL's 63-character identifiers.
    expect(() => createSqlStore({ ...pgOptions('s'.repeat(47)) })).toThrow(/option "schema" .*at most 46 characters/);
    expect(() => createSqlStore({ ...pgOptions('s'.repeat(46)) })).not.toThrow();
    expect(() => createSqlStore({ driver: 'postgresql', clientUrl: PG_URL, poolSize: 0 })).toThrow(
      /option "poolSize" must be a positive integer/,
    );
  });

  it('invalid arguments are InvalidArgumentError naming the job and field, and claim nothing', async () => {
    const temp = tempSqliteFile();
    undo.push(() => temp.remove());
    await migrate({ driver: 'sqlite', dbName: temp.file });
    const store = createSqlStore({ driver: 'sqlite', dbName: temp.file });
    undo.push(() => store.close());
    const now = new Date(Date.UTC(2030, 0, 7));
    const good = { code: 'ok', key: '', slotAt: now, attempt: 1, trigger: 'schedule' as const, overlap: 'skip' as const, leaseMs: 1000 };
    await expect(store.claimSlots([good, { ...good, code: 'bad', leaseMs: -5 }], { runnerId: 'r', now })).rejects.toThrow(
      /claims\[1\]\.leaseMs \(job "bad"\) must be an integer/,
    );
    await expect(store.queryRuns({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.queryRuns({ cursor: 'garbage' })).rejects.toThrow(/cursor/);
    // Well-shaped but out of range: refused here, never sent to the database (where it would read as an outage).
    for (const forged of ['99999999999999999999:1', '1:99999999999999999999']) {
      await expect(store.queryRuns({ cursor: Buffer.from(forged).toString('base64url') })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect((await store.queryRuns()).runs).toEqual([]);
  });

  for (const dialect of ['postgresql', 'sqlite'] as const) {
    it(`on ${dialect}: a ref with NUL or a lone surrogate is missing to lookups (as in the memory store) and refused by writes, never an outage`, async () => {
      let options: SqlStoreOptions;
      if (dialect === 'postgresql') {
        const schema = randomSchema();
        undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined));
        options = pgOptions(schema);
      } else {
        const temp = tempSqliteFile();
        undo.push(() => temp.remove());
        options = { driver: 'sqlite', dbName: temp.file };
      }
      await migrate(options);
      const store = createSqlStore(options);
      undo.push(() => store.close());
      const now = new Date(Date.UTC(2030, 0, 7));
      const tenant = { code: 'report', key: 'tenant-1' };
      await store.upsertSchedules([runtimeSchedule(tenant)], now);
      await store.requestRun(tenant, { now });
      for (const bad of [
        { code: 'report', key: 'a\u0000b' },
        { code: 'report', key: 'a\ud800b' },
        { code: 'rep\udc00ort', key: 'tenant-1' },
      ]) {
        expect(await store.getSchedules([bad, tenant])).toMatchObject([tenant]);
        expect(await store.getStates([bad])).toEqual([]);
        expect(await store.removeSchedules([bad])).toEqual([false]);
        // Only refs that cannot exist: nothing matches (the pending request of the real schedule is not listed).
        expect(await store.pendingRunRequests({ refs: [bad] })).toEqual([]);
        for (const write of [
          () => store.setPaused(bad, true, { now }),
          () => store.ensureStates([tenant, bad], now),
          () => store.requestRun(bad, { now }),
          () => store.claimSlots([claimFor(bad, now)], { runnerId: 'r', now }),
        ]) {
          const error = await write().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidArgumentError);
          expect((error as Error).message).toMatch(/\[tickwork\] \[store-sql\] \w+: .*without NUL/);
        }
      }
      expect(await store.pendingRunRequests()).toHaveLength(1);
      expect((await store.listSchedules()).schedules).toMatchObject([tenant]);
      expect((await store.getStates()).map((s) => `${s.code}/${s.key}`)).toEqual(['report/tenant-1']);
      expect((await store.queryRuns()).runs).toEqual([]);
    });
  }

  it('a read-only SQLite file is StoreUnavailableError saying it is read-only (as root, checked without the capability that overrides file modes)', async () => {
    const temp = tempSqliteFile();
    undo.push(() => temp.remove());
    await migrate({ driver: 'sqlite', dbName: temp.file });
    chmodSync(temp.file, 0o444);
    chmodSync(temp.dir, 0o755);
    const child = join(temp.dir, 'open-read-only.mjs');
    writeFileSync(
      child,
      `const { createSqlStore } = await import(${JSON.stringify(DIST)});
       const store = createSqlStore({ driver: 'sqlite', dbName: ${JSON.stringify(temp.file)} });
       try { await store.setPaused({ code: 'a', key: '' }, true, { now: new Date() }); console.log('WROTE'); }
       catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }
       await store.close();`,
    );
    // Root ignores file modes through CAP_DAC_OVERRIDE, so as root the child runs without
    // that capability (util-linux's setpriv): still the owner of the checkout, which may be a
    // private 0700 folder that another user such as "nobody" could not even enter.
    const [command, args] =
      process.getuid?.() === 0
        ? ['setpriv', ['--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search', process.execPath, child]]
        : [process.execPath, [child]];
    const result = spawnSync(command, args, { encoding: 'utf8' });
    expect(result.error, 'setpriv (util-linux) runs the child without CAP_DAC_OVERRIDE').toBeUndefined();
    expect(result.stderr).toBe('');
    const outcome = JSON.parse(result.stdout) as { name: string; message: string };
    expect(outcome.name).toBe('StoreUnavailableError');
    expect(outcome.message).toMatch(/^\[tickwork\] \[store-sql\] .*SQLite file .*tickwork\.db is read-only/);
  });

  it('migrate() run by several callers at once on a fresh PostgreSQL schema succeeds for all, applying once', async () => {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined));
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(pgOptions(schema))));
    expect(results.flatMap((r) => r.applied)).toEqual([...MIGRATION_NAMES]);
    for (const r of results) expect(r.current).toEqual([...MIGRATION_NAMES]);
  });

  // Four processes each loading MikroORM and taking turns on the file lock: seconds apiece on a busy 2-core machine.
  it('migrate() run by 4 processes at once on a fresh SQLite file succeeds in all, applying once', { timeout: 120_000 }, async () => {
    const temp = tempSqliteFile();
    undo.push(() => temp.remove());
    const script = `const { migrate } = await import(${JSON.stringify(DIST)});
      console.log(JSON.stringify(await migrate({ driver: 'sqlite', dbName: ${JSON.stringify(temp.file)} })));`;
    const runs = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<{ applied: string[] }>((resolve, reject) => {
            execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout, stderr) =>
              error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as { applied: string[] }),
            );
          }),
      ),
    );
    expect(runs.flatMap((r) => r.applied)).toEqual([...MIGRATION_NAMES]);
  });

  it('MIGRATION_NAMES lists what migrate() applies', async () => {
    const temp = tempSqliteFile();
    undo.push(() => temp.remove());
    const first = await migrate({ driver: 'sqlite', dbName: temp.file });
    expect(first.applied).toEqual([...MIGRATION_NAMES]);
    const second = await migrate({ driver: 'sqlite', dbName: temp.file });
    expect(second).toEqual({ applied: [], current: [...MIGRATION_NAMES] });
  });
});

describe('the store’s migrate() hook (what `tickwork migrate` calls)', () => {
  it('migrates the store’s own database, after which the same instance works', async () => {
    const temp = tempSqliteFile();
    const store = createSqlStore({ driver: 'sqlite', dbName: temp.file });
    try {
      await expect(store.getStates()).rejects.toBeInstanceOf(StoreSchemaError);
      expect((await store.migrate()).applied).toEqual([...MIGRATION_NAMES]);
      expect(await store.ensureStates([{ code: 'a', key: '' }], new Date(Date.UTC(2030, 0, 7)))).toHaveLength(1);
      expect((await store.migrate()).applied).toEqual([]);
    } finally {
      await store.close();
      temp.remove();
    }
  });
});
