import { MikroORM, type Options } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LibSqlDriver } from '@mikro-orm/libsql';
import { describeStoreConformance, type StoreFixture } from '@tickwork/store-conformance';
import { createSqlStore, migrate } from '../src/index.js';
import { adminQuery, PG_URL, randomSchema, tempSqliteFile } from './fixtures.js';

/** Every `open()` is a separate host ORM (its own pool) whose connections the store borrows. */
async function ormFixture(config: () => Options, drop: () => Promise<void>): Promise<StoreFixture> {
  const orms: MikroORM[] = [];
  const init = async () => {
    const orm = await MikroORM.init(config());
    orms.push(orm);
    return orm;
  };
  await migrate({ orm: await init() });
  return {
    open: async () => createSqlStore({ orm: await init() }),
    cleanup: async () => {
      await Promise.all(orms.map((orm) => orm.close(true)));
      await drop();
    },
  };
}

describeStoreConformance('store-sql on a host MikroORM (PostgreSQL)', async () => {
  const schema = randomSchema();
  return ormFixture(
    () => ({ driver: PostgreSqlDriver, clientUrl: PG_URL, schema, entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 0, max: 3 } }),
    async () => void (await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
  );
}, { raceInstances: 4 });

describeStoreConformance('store-sql on a host MikroORM (SQLite)', async () => {
  const temp = tempSqliteFile();
  return ormFixture(
    () => ({ driver: LibSqlDriver, dbName: temp.file, entities: [], discovery: { warnWhenNoEntities: false } }),
    async () => temp.remove(),
  );
}, { raceInstances: 4 });
