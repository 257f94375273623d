import { MikroORM, type Options } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LibSqlDriver } from '@mikro-orm/libsql';
import { describeStoreConformance, type StoreFixture } from '@tickwork/store-conformance';
import { afterAll } from 'vitest';
import { createSqlStore, migrate } from '../src/index.js';
import { PG_URL, pgSchemaTemplate, sqliteFileTemplate } from './fixtures.js';

/** Every `open()` is a separate host ORM (its own pool) whose connections the store borrows. */
function ormFixture(config: () => Options, drop: () => Promise<void>): StoreFixture {
  const orms: MikroORM[] = [];
  return {
    open: async () => {
      const orm = await MikroORM.init(config());
      orms.push(orm);
      return createSqlStore({ orm });
    },
    cleanup: async () => {
      await Promise.all(orms.map((orm) => orm.close(true)));
      await drop();
    },
  };
}

/** `migrate({ orm })` with a host ORM of its own, closed afterwards. */
async function migrateWithHostOrm(options: Options): Promise<void> {
  const orm = await MikroORM.init(options);
  try {
    await migrate({ orm });
  } finally {
    await orm.close(true);
  }
}

const pgOrmOptions = (schema: string): Options => ({
  driver: PostgreSqlDriver,
  clientUrl: PG_URL,
  schema,
  entities: [],
  discovery: { warnWhenNoEntities: false },
  pool: { min: 0, max: 3 },
});
const sqliteOrmOptions = (file: string): Options => ({
  driver: LibSqlDriver,
  dbName: file,
  entities: [],
  discovery: { warnWhenNoEntities: false },
});

// Each test gets a schema no other test is using as this file migrated it through a host ORM (see pgSchemaTemplate), and a
// SQLite file of its own, a copy of one this file migrated so.
const schemas = pgSchemaTemplate((schema) => migrateWithHostOrm(pgOrmOptions(schema)));
afterAll(() => schemas.drop());
const files = sqliteFileTemplate((file) => migrateWithHostOrm(sqliteOrmOptions(file)));

describeStoreConformance(
  'store-sql on a host MikroORM (PostgreSQL)',
  async () => {
    const schema = await schemas.take();
    return ormFixture(
      () => pgOrmOptions(schema),
      () => schemas.give(schema),
    );
  },
  { raceInstances: 4 },
);

describeStoreConformance(
  'store-sql on a host MikroORM (SQLite)',
  async () => {
    const temp = await files();
    return ormFixture(
      () => sqliteOrmOptions(temp.file),
      async () => temp.remove(),
    );
  },
  { raceInstances: 4 },
);
