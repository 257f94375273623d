/**
 * What a deployment of an earlier version has: only the first `count` migrations applied,
 * by MikroORM's Migrator, exactly as that version's `migrate()` left them.
 */
import { MikroORM, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MIGRATION_NAMES } from '../src/index.js';
import { initMigration } from '../src/migrations/Migration20261123000000_tickwork_init.js';
import { schedulesMigration } from '../src/migrations/Migration20261124000000_tickwork_schedules.js';

const EARLIER = [initMigration, schedulesMigration];

/** Applies the first `count` migrations (1: the first version's schema, 2: the runtime-schedules version's) to `config`'s database. */
export async function migrateEarlier(count: 1 | 2, config: Options, dialect: 'postgresql' | 'sqlite', schema: string): Promise<void> {
  const orm = await MikroORM.init({ ...config, entities: [], discovery: { warnWhenNoEntities: false }, debug: false });
  try {
    const defaults = orm.config.get('migrations') as object;
    orm.config.set('migrations', {
      ...defaults,
      tableName: dialect === 'postgresql' ? `${schema}.tickwork_migrations` : 'tickwork_migrations',
      migrationsList: EARLIER.slice(0, count).map((build, i) => ({ name: MIGRATION_NAMES[i]!, class: build({ dialect, schema }) })),
      transactional: true,
      snapshot: false,
      silent: true,
    } as never);
    await new Migrator(orm.em as never).up();
  } finally {
    await orm.close(true);
  }
}

/**
 * The state columns the dead-man migration (#20) adds, at their defaults (the same on both dialects): upgrade
 * tests of earlier migrations allow them.
 */
export const DEAD_MAN_DEFAULTS: Record<string, unknown> = {
  failing_since: null,
  last_succeeded_at: null,
  ended_streak: 0,
  ended_streak_started_at: null,
  expect_success_within_ms: null,
  overdue_alerted_at: null,
  ended_overdue_alerted_at: null,
};

/** Their names. */
export const DEAD_MAN_COLUMNS = Object.keys(DEAD_MAN_DEFAULTS);
