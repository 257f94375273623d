import { MikroORM } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LibSqlDriver } from '@mikro-orm/libsql';
import { afterEach, describe, expect, it } from 'vitest';
import { tickworkEntities, TickworkJobState, TickworkRun, TickworkSchedule } from '../src/entities.js';
import { createSqlStore, migrate, MIGRATION_NAMES } from '../src/index.js';
import { adminQuery, PG_URL, randomSchema, runtimeSchedule, tempSqliteFile } from './fixtures.js';

const AT = new Date(Date.UTC(2030, 0, 7, 12));

async function useThroughOrm(orm: MikroORM): Promise<void> {
  expect((await migrate({ orm })).applied).toEqual([...MIGRATION_NAMES]);
  expect((await migrate({ orm })).applied).toEqual([]);
  const store = createSqlStore({ orm });
  const [created] = await store.upsertSchedules([runtimeSchedule({ code: 'billing', key: 'acme' })], AT);
  const [outcome] = await store.claimSlots(
    [{ code: 'billing', key: 'acme', slotAt: AT, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 30_000 }],
    { runnerId: 'host', now: AT },
  );
  if (outcome?.status !== 'claimed') throw new Error(`expected a claim, got ${outcome?.status}`);
  const [done] = await store.completeRuns([
    { lease: outcome.lease, status: 'succeeded', finishedAt: new Date(AT.getTime() + 1500), message: 'ok' },
  ]);
  expect(done?.status).toBe('completed');
  await store.setScheduleOverride({ code: 'billing', key: 'acme' }, { kind: 'every', everyMs: 60_000 }, AT);
  await store.close(); // the host's ORM stays open

  // The host reads the same rows through its ORM with the exported entities.
  const em = orm.em.fork();
  const runs = await em.find(TickworkRun, { code: 'billing' });
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({ key: 'acme', status: 'succeeded', durationMs: 1500, message: 'ok', runnerId: 'host' });
  expect(runs[0]?.startedAt).toEqual(AT);
  const schedule = await em.findOneOrFail(TickworkSchedule, { code: 'billing', key: 'acme' });
  expect(schedule).toMatchObject({ enabled: true, version: created?.version, createdAt: AT, updatedAt: AT });
  expect(JSON.parse(schedule.definition)).toMatchObject({ schedule: { kind: 'every', everyMs: 60_000 }, payload: { tenant: 1 } });
  const state = await em.findOneOrFail(TickworkJobState, { code: 'billing', key: 'acme' });
  expect(state.lastStatus).toBe('succeeded');
  expect(state.lastFinishedAt).toEqual(new Date(AT.getTime() + 1500));
  expect(state.scheduleOverride).toEqual({ kind: 'every', everyMs: 60_000 });
}

describe('a host-injected MikroORM instance', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('on PostgreSQL: migrate and the store borrow its connections, and its entities read the Tickwork tables', async () => {
    const schema = randomSchema();
    const orm = await MikroORM.init({ driver: PostgreSqlDriver, clientUrl: PG_URL, schema, entities: [...tickworkEntities], debug: false });
    cleanup = async () => {
      await orm.close(true);
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    };
    await useThroughOrm(orm);
  });

  it('on SQLite: the same, on the host’s file', async () => {
    const temp = tempSqliteFile();
    const orm = await MikroORM.init({ driver: LibSqlDriver, dbName: temp.file, entities: [...tickworkEntities], debug: false });
    cleanup = async () => {
      await orm.close(true);
      temp.remove();
    };
    await useThroughOrm(orm);
  });
});
