/**
 * A PostgreSQL store's first call is usually the clock sync's ping: its schema check and the ping
 * are one statement, so one round trip (counted as the server's ReadyForQuery messages through a
 * loopback relay), and it still fails as the schema check does.
 */
import { StoreSchemaError } from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate, type SqlStoreOptions } from '../src/index.js';
import { adminQuery, PG_URL, pgRelay, randomSchema } from './fixtures.js';

/** A relay to PostgreSQL counting the server's ReadyForQuery ('Z') messages: one after the startup, one per statement. */
async function countingRelay(undo: (() => Promise<unknown>)[]): Promise<{ url: string; ready(): number }> {
  let ready = 0;
  const unread = new WeakMap<object, Buffer>();
  const url = await pgRelay(undo, {
    serverData(chunk, connection) {
      let pending = Buffer.concat([unread.get(connection) ?? Buffer.alloc(0), chunk]);
      // Every server message is framed: a type byte and a length that counts itself.
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (pending.length < 1 + length) break;
        if (pending[0] === 0x5a) ready += 1;
        pending = pending.subarray(1 + length);
      }
      unread.set(connection, pending);
    },
  });
  return { url, ready: () => ready };
}

describe('PostgreSQL: the first ping carries the schema check', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    undo.length = 0;
  });

  async function migratedSchema(): Promise<string> {
    const schema = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await migrate({ driver: 'postgresql', clientUrl: PG_URL, schema });
    return schema;
  }

  function storeOn(clientUrl: string, schema: string) {
    const store = createSqlStore({ driver: 'postgresql', clientUrl, schema, poolSize: 1 } as SqlStoreOptions);
    undo.push(() => store.close());
    return store;
  }

  it('is one round trip, answers the server time, and the calls after it are one each', async () => {
    const schema = await migratedSchema();
    const relay = await countingRelay(undo);
    const store = storeOn(relay.url, schema);
    const serverNow = (await adminQuery<{ now: Date }>('SELECT now() AS now'))[0]!.now;
    const first = await store.ping();
    // The connection's startup, then one statement (two before: the check, then the ping).
    expect(relay.ready()).toBe(2);
    expect(first.serverTime).toBeInstanceOf(Date);
    expect(first.serverTime!.getTime()).toBeGreaterThanOrEqual(serverNow.getTime());
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);
    await store.ping();
    expect(relay.ready()).toBe(3);
    expect(await store.getStates()).toEqual([]);
    expect(relay.ready()).toBe(4);
  });

  it('fails as the schema check does: a schema without tables, a schema missing a migration', async () => {
    const empty = randomSchema();
    undo.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${empty}" CASCADE`));
    await adminQuery(`CREATE SCHEMA "${empty}"`);
    await expect(storeOn(PG_URL, empty).ping()).rejects.toBeInstanceOf(StoreSchemaError);

    const schema = await migratedSchema();
    const last = await adminQuery<{ name: string }>(`SELECT name FROM "${schema}".tickwork_migrations ORDER BY name DESC LIMIT 1`);
    await adminQuery(`DELETE FROM "${schema}".tickwork_migrations WHERE name = $1`, [last[0]!.name]);
    const store = storeOn(PG_URL, schema);
    const error = await store.ping().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as Error).message).toContain('run `tickwork migrate`');
    // Not remembered: the same store checks again on its next call.
    await expect(store.getStates()).rejects.toBeInstanceOf(StoreSchemaError);
    await adminQuery(`INSERT INTO "${schema}".tickwork_migrations (name) VALUES ($1)`, [last[0]!.name]);
    expect((await store.ping()).serverTime).toBeInstanceOf(Date);
  });

  it('a ping and another call started together both answer, after one check', async () => {
    const schema = await migratedSchema();
    const relay = await countingRelay(undo);
    const store = storeOn(relay.url, schema);
    const [ping, states] = await Promise.all([store.ping(), store.getStates()]);
    expect(ping.serverTime).toBeInstanceOf(Date);
    expect(states).toEqual([]);
    // Startup, the check with the ping, then getStates.
    expect(relay.ready()).toBe(3);
  });
});
