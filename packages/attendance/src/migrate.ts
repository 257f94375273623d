import type { MikroORM } from '@mikro-orm/core';
import type { AbstractSqlDriver } from '@mikro-orm/knex';
import type { MigrationsOptions } from '@mikro-orm/core';
import { MigrationRunner, MigrationStorage, type Migration } from '@mikro-orm/migrations';
import { AttendanceInitial } from './migrations/attendance-0001-initial.js';

/** The table recording which attendance migrations ran, apart from the host's own migrations table. */
export const ATTENDANCE_MIGRATIONS_TABLE = 'attendance_migrations';

type MigrationClass = new (...args: ConstructorParameters<typeof AttendanceInitial>) => Migration;

/** The attendance migrations in order, by name (for hosts that list migrations in their own Migrator). */
export const attendanceMigrations: readonly { name: string; class: MigrationClass }[] = [
  { name: 'attendance-0001-initial', class: AttendanceInitial },
];

/**
 * Applies the attendance migrations not yet applied, in one transaction, tracked in
 * `attendance_migrations` so they never mix with the host's own. Safe to call at every
 * start-up and from several processes at once (an advisory lock serialises them on PostgreSQL).
 * Returns the names applied.
 */
export async function migrateAttendance(orm: MikroORM): Promise<string[]> {
  const driver = orm.em.getDriver() as unknown as AbstractSqlDriver;
  const options: MigrationsOptions = {
    tableName: ATTENDANCE_MIGRATIONS_TABLE,
    transactional: true,
    allOrNothing: true,
    disableForeignKeys: false,
  };
  const storage = new MigrationStorage(driver, options);
  const runner = new MigrationRunner(driver, options, orm.config);
  const connection = driver.getConnection();
  const postgres = driver.getPlatform().constructor.name === 'PostgreSqlPlatform';
  const applied: string[] = [];
  const schema = orm.config.get('schema') as string | undefined;
  // Outside the transaction: MikroORM's storage looks the schema up on another connection,
  // which would wait forever on an uncommitted CREATE SCHEMA.
  if (postgres && schema) await createSchema(connection, schema);
  await connection.transactional(async (trx) => {
    if (postgres) {
      // One lock per schema, so a stuck migration of one schema never blocks another's; and a
      // bounded wait, so a stuck one fails loudly instead of hanging every start-up behind it.
      await connection.execute(`set local lock_timeout = '60s'`, [], 'run', trx);
      await connection.execute(
        `select pg_advisory_xact_lock(hashtext(?))`,
        [`tickwork.attendance.migrations:${schema ?? 'public'}`],
        'all',
        trx,
      );
    }
    storage.setMasterMigration(trx);
    runner.setMasterMigration(trx);
    try {
      await storage.ensureTable();
      const done = new Set(await storage.executed());
      for (const { name, class: MigrationType } of attendanceMigrations) {
        if (done.has(name)) continue;
        await runner.run(new MigrationType(driver, orm.config), 'up');
        await storage.logMigration({ name, context: null });
        applied.push(name);
      }
    } finally {
      storage.unsetMasterMigration();
      runner.unsetMasterMigration();
    }
  });
  return applied;
}

async function createSchema(connection: ReturnType<AbstractSqlDriver['getConnection']>, schema: string): Promise<void> {
  try {
    await connection.execute(`create schema if not exists "${schema.replaceAll('"', '""')}"`, [], 'run');
  } catch (error) {
    // Two processes creating it at once: one wins, the other's unique violation is harmless.
    const rows = (await connection.execute('select 1 from pg_namespace where nspname = ?', [schema], 'all')) as unknown[];
    if (rows.length === 0) throw error;
  }
}
