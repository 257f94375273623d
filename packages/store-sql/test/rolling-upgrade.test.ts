/**
 * Rolling upgrades (expand/contract): a newer release's `migrate()` applies one more
 * migration, and this release's store and `migrate()` run against that schema. An expand
 * migration (it declares that older releases may keep running) is accepted and the store
 * works on it; a contract migration is refused, naming both schema versions and what to do.
 */
import { Migration } from '@mikro-orm/migrations';
import { StoreSchemaError, type Store } from '@tickwork/core';
import { claimFor as claim, prepareSchedules } from '@tickwork/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, MIGRATION_NAMES, type SqlStoreOptions } from '../src/index.js';
import { migrateWith, SHIPPED, type ShippedMigration } from '../src/migrate.js';
import type { MigrationCompat } from '../src/migrations/names.js';
import { adminQuery, pgOptions, randomSchema, rawSqlite, tempSqliteFile } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));
const JOB = { code: 'billing', key: '' };
const NEWEST = MIGRATION_NAMES[MIGRATION_NAMES.length - 1]!;
const MINE = MIGRATION_NAMES.length;

/** The migration a newer release ships after this one's: `sql` on its dialect, declared `compat`. */
function future(name: string, compat: MigrationCompat, sql: (s: string) => string): ShippedMigration {
  return {
    info: { name, compat },
    build: (target) =>
      class extends Migration {
        override up(): void {
          this.addSql(sql(target.dialect === 'postgresql' ? `"${target.schema}".` : ''));
        }
      } as unknown as typeof Migration,
  };
}

// Expand: a column this release never reads. Contract: drops a column this release writes.
const EXPAND = future(
  'Migration20991230000000_future_expand',
  { kind: 'expand' },
  (s) => `ALTER TABLE ${s}tickwork_run ADD COLUMN future_note varchar(100)`,
);
const CONTRACT = future(
  'Migration20991231000000_future_contract',
  { kind: 'contract', oldestRelease: 'Migration20991231000000_future_contract' },
  (s) => `ALTER TABLE ${s}tickwork_run DROP COLUMN message`,
);

/** A claim and its completion: the store works on the schema it accepted. */
async function claimAndComplete(store: Store): Promise<void> {
  await prepareSchedules(store, [JOB], AT);
  const [result] = await store.claimSlots([claim(JOB, AT)], { runnerId: 'old-release', now: AT });
  expect(result?.status).toBe('claimed');
  if (result?.status !== 'claimed') return;
  const [done] = await store.completeRuns([{ lease: result.lease, status: 'succeeded', finishedAt: AT, message: 'ok' }]);
  expect(done?.status).toBe('completed');
}

function dialects(): {
  name: string;
  open(
    undo: (() => Promise<unknown>)[],
  ): Promise<{ options: SqlStoreOptions; compatRows(): Promise<{ name: string; version: number; oldest_version: number }[]> }>;
}[] {
  return [
    {
      name: 'PostgreSQL',
      open: async (undo) => {
        const schema = randomSchema();
        undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
        return {
          options: pgOptions(schema),
          compatRows: () => adminQuery(`SELECT name, version, oldest_version FROM "${schema}".tickwork_schema_compat ORDER BY version`),
        };
      },
    },
    {
      name: 'SQLite',
      open: async (undo) => {
        const temp = tempSqliteFile();
        undo.push(async () => temp.remove());
        return {
          options: { driver: 'sqlite', dbName: temp.file },
          compatRows: async () => rawSqlite(temp.file, 'SELECT name, version, oldest_version FROM tickwork_schema_compat ORDER BY version'),
        };
      },
    },
  ];
}

describe.each(dialects())('rolling upgrade on $name', ({ open }) => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (undo.length > 0) await undo.pop()!();
  });

  it('every migration records its schema version and the oldest release that may run against it', async () => {
    const { options, compatRows } = await open(undo);
    await migrate(options);
    const rows = await compatRows();
    expect(rows.map((r) => r.name)).toEqual([...MIGRATION_NAMES]);
    expect(rows.map((r) => r.version)).toEqual(MIGRATION_NAMES.map((_, i) => i + 1));
    // The schema-compat migration is an expand: releases of the exactly-once schema (version 3) could run against it.
    expect(rows.find((r) => r.name === 'Migration20261202000000_tickwork_schema_compat')?.oldest_version).toBe(3);
  });

  it('a schema one compatible (expand) migration ahead is accepted by this release: store calls and migrate() work', async () => {
    const { options, compatRows } = await open(undo);
    expect((await migrateWith(options, [...SHIPPED, EXPAND])).applied).toContain(EXPAND.info.name);
    expect((await compatRows()).at(-1)).toMatchObject({
      name: EXPAND.info.name,
      version: MINE + 1,
      oldest_version: (await compatRows()).at(-2)!.oldest_version,
    });

    const store = createSqlStore(options);
    undo.push(() => store.close());
    await claimAndComplete(store);
    expect((await store.queryRuns()).runs.map((r) => r.message)).toEqual(['ok']);
    // This release's migrate() has nothing to apply and leaves the newer schema as it is.
    expect(await migrate(options)).toEqual({ applied: [], current: [...MIGRATION_NAMES, EXPAND.info.name] });
  });

  it('a schema one incompatible (contract) migration ahead is refused by the store and by migrate(), naming both versions', async () => {
    const { options } = await open(undo);
    await migrateWith(options, [...SHIPPED, CONTRACT]);
    const store = createSqlStore(options);
    undo.push(() => store.close());
    const refused = await store.getStates().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreSchemaError);
    const message = (refused as Error).message;
    expect(message).toContain(`is at schema version ${MINE + 1} (${CONTRACT.info.name}, migrated by @tickwork/store-sql `);
    expect(message).toContain(`only releases of schema version ${MINE + 1} (${CONTRACT.info.name}) or later may run against it`);
    expect(message).toContain(`this one is at schema version ${MINE} (${NEWEST})`);
    expect(message).toContain('Upgrade @tickwork/store-sql on this host');
    const again = await migrate(options).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(StoreSchemaError);
    expect((again as Error).message).toContain(`this one is at schema version ${MINE} (${NEWEST})`);
  });

  it('an expand after a contract needs the contract’s release: the oldest release is inherited', async () => {
    const { options } = await open(undo);
    const later = future(
      'Migration20991231000001_future_expand_again',
      { kind: 'expand' },
      (s) => `CREATE TABLE ${s}tickwork_future (id integer)`,
    );
    await migrateWith(options, [...SHIPPED, CONTRACT, later]);
    const store = createSqlStore(options);
    undo.push(() => store.close());
    const refused = await store.getStates().catch((e: unknown) => e);
    expect((refused as Error).message).toContain(`is at schema version ${MINE + 2} (${later.info.name},`);
    expect((refused as Error).message).toContain(`only releases of schema version ${MINE + 1} (${CONTRACT.info.name}) or later`);
    // The release that shipped the contract runs against the later expand.
    expect(await migrateWith(options, [...SHIPPED, CONTRACT])).toEqual({
      applied: [],
      current: [...MIGRATION_NAMES, CONTRACT.info.name, later.info.name],
    });
  });
});
