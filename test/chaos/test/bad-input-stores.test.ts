import { createFakeClock, every, InvalidArgumentError, runDue, StoreSchemaError, type JobDefinition, type Store } from '@tickwork/core';
import { createRedisStore } from '@tickwork/store-redis';
import { createSqlStore, SqlStoreOptionsError } from '@tickwork/store-sql';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, REDIS_URL, START_HINT, uniqueSuffix } from '../src/fixtures.js';

/**
 * The bad-input catalogue, part 2: store states a runner can meet — Redis keys of the wrong
 * type or with garbage values under the store's prefix, SQL tables missing or from a newer
 * version — and bad store options. Each case asserts the error class and message, and that
 * the raw data (every Redis key, every SQL row) is byte-for-byte unchanged afterwards.
 */

const NOW = '2026-03-02T10:00:30.000Z';
const LATER = '2026-03-02T10:01:30.000Z';
const job: JobDefinition = { code: 'nightly', schedule: every('1m'), run: async () => undefined };

async function tick(store: Store, at: string): Promise<void> {
  await runDue({ jobs: [job], store, clock: createFakeClock(at) });
}

describe('Redis store: corrupted keys under the prefix fail with StoreSchemaError and change nothing', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
    } catch (error) {
      throw new Error(`Redis at ${REDIS_URL} is unreachable (${String(error)}); ${START_HINT.redis}`);
    }
  });
  afterAll(async () => {
    await redis.quit();
  });

  /** Every key under the prefix with its type and DUMP, so any write shows. */
  async function rawSnapshot(prefix: string): Promise<string> {
    const keys = (await redis.keys(`${prefix}:*`)).sort();
    const rows: string[] = [];
    for (const key of keys) {
      const dump = await redis.dumpBuffer(key);
      rows.push(`${key} ${await redis.type(key)} ${dump?.toString('hex') ?? ''}`);
    }
    return rows.join('\n');
  }

  interface RedisCase {
    name: string;
    corrupt: (prefix: string) => Promise<unknown>;
    act: (store: Store) => Promise<unknown>;
    error: new (...args: never[]) => Error;
    message: RegExp;
  }

  const J = (prefix: string, kind: string) => `${prefix}:{nightly}:${kind}`;
  const G = (prefix: string, kind: string) => `${prefix}:#:${kind}`;
  const CASES: RedisCase[] = [
    {
      name: 'job states key holds a string instead of a hash (tick)',
      corrupt: async (p) => {
        await redis.del(J(p, 'states'));
        await redis.set(J(p, 'states'), 'oops');
      },
      act: (store) => tick(store, LATER),
      error: StoreSchemaError,
      message: /\{nightly\}:states.*string.*hash/,
    },
    {
      name: 'claims key holds a list (tick)',
      corrupt: async (p) => {
        await redis.del(J(p, 'claims'));
        await redis.rpush(J(p, 'claims'), 'x');
      },
      act: (store) => tick(store, LATER),
      error: StoreSchemaError,
      message: /\{nightly\}:claims.*list.*hash/,
    },
    {
      name: 'run sequence holds a set (tick)',
      corrupt: async (p) => {
        await redis.del(J(p, 'seq'));
        await redis.sadd(J(p, 'seq'), '1');
      },
      act: (store) => tick(store, LATER),
      error: StoreSchemaError,
      message: /\{nightly\}:seq.*set.*string/,
    },
    {
      name: 'global lease index holds a string (reapExpired)',
      corrupt: async (p) => {
        await redis.del(G(p, 'leases'));
        await redis.set(G(p, 'leases'), '1');
      },
      act: (store) => store.reapExpired({ now: new Date(LATER) }),
      error: StoreSchemaError,
      message: /#:leases.*string.*zset/,
    },
    {
      name: 'code registry holds a hash (getStates)',
      corrupt: async (p) => {
        await redis.del(G(p, 'codes'));
        await redis.hset(G(p, 'codes'), 'nightly', '1');
      },
      act: (store) => store.getStates(),
      error: StoreSchemaError,
      message: /key "chaos-bad-[a-z0-9]+:#:codes" holds a Redis/,
    },
    {
      name: 'run-now request queue holds a list (requestRun)',
      corrupt: async (p) => {
        await redis.del(G(p, 'requests'));
        await redis.rpush(G(p, 'requests'), 'x');
      },
      act: (store) => store.requestRun({ code: 'nightly', key: '' }, { now: new Date(LATER) }),
      error: StoreSchemaError,
      message: /#:requests.*list.*zset/,
    },
    {
      name: 'a state value that is not JSON (tick)',
      corrupt: (p) => redis.hset(J(p, 'states'), '', '{not json'),
      act: (store) => tick(store, LATER),
      error: StoreSchemaError,
      message: /ensureStates: a value under the prefix is not the JSON this version writes/,
    },
  ];

  for (const c of CASES) {
    it(`${c.name}`, async () => {
      const prefix = `chaos-bad-${uniqueSuffix()}`;
      const store = createRedisStore({ url: REDIS_URL, prefix });
      try {
        await tick(store, NOW);
        await c.corrupt(prefix);
        const before = await rawSnapshot(prefix);
        expect(before).toContain(':{nightly}:runs');
        const outcome = c.act(store);
        await expect(outcome).rejects.toBeInstanceOf(c.error);
        await expect(outcome).rejects.toThrow(/^\[tickwork\] \[store-redis\] /);
        await expect(outcome).rejects.toThrow(c.message);
        expect(await rawSnapshot(prefix)).toBe(before);
      } finally {
        await store.close();
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      }
    });
  }

  it('a prefix with a glob character is refused before any Redis call', () => {
    expect(() => createRedisStore({ url: REDIS_URL, prefix: 'bad*prefix' })).toThrow(InvalidArgumentError);
    expect(() => createRedisStore({ url: REDIS_URL, prefix: 'bad*prefix' })).toThrow(/\[store-redis\].*prefix/);
  });
});

describe('SQL store: missing or foreign tables fail with StoreSchemaError and change nothing', () => {
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    try {
      await admin.connect();
    } catch (error) {
      throw new Error(`PostgreSQL at ${PG_URL} is unreachable (${String(error)}); ${START_HINT.postgres}`);
    }
  });
  afterAll(async () => {
    await admin.end();
  });

  /** Every row of every table in the schema, so any write shows. */
  async function rawSnapshot(schema: string): Promise<string> {
    const tables = await admin.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1 order by table_name',
      [schema],
    );
    const out: string[] = [];
    for (const { table_name: table } of tables.rows) {
      const rows = await admin.query(`select * from "${schema}"."${table}"`);
      out.push(`${table}: ${JSON.stringify(rows.rows.map((r) => JSON.stringify(r)).sort())}`);
    }
    return out.join('\n');
  }

  async function migratedSchema(): Promise<{ schema: string; store: Store }> {
    const schema = `chaos_bad_${uniqueSuffix()}`;
    const { migrate } = await import('@tickwork/store-sql');
    await migrate({ driver: 'postgresql', clientUrl: PG_URL, schema });
    const store = createSqlStore({ driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 2 });
    await tick(store, NOW);
    await store.close();
    return { schema, store: createSqlStore({ driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 2 }) };
  }

  const CASES: Array<{ name: string; corrupt: (schema: string) => Promise<unknown>; message: RegExp }> = [
    {
      name: 'schema with no Tickwork tables at all',
      // cascade: the store's PL/pgSQL functions return tickwork_run rows, so they depend on it.
      corrupt: (s) =>
        admin.query(
          `drop table "${s}".tickwork_run, "${s}".tickwork_job_state, "${s}".tickwork_run_request, "${s}".tickwork_migrations cascade`,
        ),
      message: /\[store-sql\].*(missing|tickwork migrate)/,
    },
    {
      name: 'migrations table lists a migration from a newer version',
      corrupt: (s) =>
        admin.query(`insert into "${s}".tickwork_migrations (name, executed_at) values ('Migration29990101000000_future', now())`),
      message: /\[store-sql\].*newer.*Migration29990101000000_future/,
    },
    {
      name: 'migrations table emptied (tables present, history lost)',
      corrupt: (s) => admin.query(`delete from "${s}".tickwork_migrations`),
      message: /\[store-sql\].*missing migrations.*tickwork migrate/,
    },
  ];

  for (const c of CASES) {
    it(`${c.name}`, async () => {
      const { schema, store } = await migratedSchema();
      try {
        await c.corrupt(schema);
        const before = await rawSnapshot(schema);
        const outcome = tick(store, LATER);
        await expect(outcome).rejects.toBeInstanceOf(StoreSchemaError);
        await expect(outcome).rejects.toThrow(c.message);
        expect(await rawSnapshot(schema)).toBe(before);
      } finally {
        await store.close();
        await admin.query(`drop schema if exists "${schema}" cascade`);
      }
    });
  }

  it('a dropped run table is reported when the run log is read, and nothing else changes', async () => {
    const { schema, store } = await migratedSchema();
    try {
      await admin.query(`drop table "${schema}".tickwork_run cascade`);
      const before = await rawSnapshot(schema);
      const outcome = store.queryRuns({ limit: 10 });
      await expect(outcome).rejects.toBeInstanceOf(StoreSchemaError);
      await expect(outcome).rejects.toThrow(/\[store-sql\].*tickwork_run/);
      expect(await rawSnapshot(schema)).toBe(before);
    } finally {
      await store.close();
      await admin.query(`drop schema if exists "${schema}" cascade`);
    }
  });

  const OPTION_CASES: Array<[string, Record<string, unknown>, RegExp]> = [
    ['driver mysql', { driver: 'mysql', clientUrl: PG_URL }, /\[store-sql\].*driver.*mysql/],
    [
      'schema with upper case and a dash',
      { driver: 'postgresql', clientUrl: PG_URL, schema: 'Bad-Schema' },
      /\[store-sql\] option "schema".*"Bad-Schema"/,
    ],
    ['unknown option for sqlite', { driver: 'sqlite', dbName: 'x.db', poolSize: 3 }, /\[store-sql\].*poolSize/],
    ['sqlite without a file name', { driver: 'sqlite' }, /\[store-sql\].*dbName/],
  ];
  for (const [name, options, message] of OPTION_CASES) {
    it(`createSqlStore refuses ${name} before connecting`, () => {
      expect(() => createSqlStore(options as never)).toThrow(SqlStoreOptionsError);
      expect(() => createSqlStore(options as never)).toThrow(message);
    });
  }
});
