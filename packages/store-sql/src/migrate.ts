/**
 * `migrate()`: applies the migrations this version ships with MikroORM's Migrator,
 * each in a transaction (PostgreSQL and SQLite both have transactional DDL, so a
 * failed migration leaves the previous version intact). Idempotent.
 */
import type { MikroORM, Options } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import { StoreSchemaError, TickworkError } from '@tickwork/core';
import { isAccessError, pgError, PREFIX, sqliteError } from './errors.js';
import { initMigration } from './migrations/Migration20261123000000_tickwork_init.js';
import { schedulesMigration } from './migrations/Migration20261124000000_tickwork_schedules.js';
import { exactlyOnceMigration } from './migrations/Migration20261201000000_tickwork_exactly_once.js';
import { accessMigration } from './migrations/Migration20261202224500_tickwork_access.js';
import { hotRenewalsMigration } from './migrations/Migration20261202230000_tickwork_hot_renewals.js';
import { maintenanceMigration } from './migrations/Migration20261203030000_tickwork_maintenance.js';
import { runRequestIndexesMigration } from './migrations/Migration20261202231000_tickwork_run_request_indexes.js';
import { compatInsert, schemaCompatMigration } from './migrations/Migration20261202000000_tickwork_schema_compat.js';
import { runnersMigration } from './migrations/Migration20261203000000_tickwork_runners.js';
import { limitedRunsMigration } from './migrations/Migration20261203010000_tickwork_limited_runs.js';
import { skippedSlotsMigration } from './migrations/Migration20261203020000_tickwork_skipped_slots.js';
import { deadManMigration } from './migrations/Migration20261203040000_tickwork_dead_man.js';
import { partitionsMigration } from './migrations/Migration20261203050000_tickwork_partitions.js';
import { runPartitionsMigration } from './migrations/Migration20261203060000_tickwork_run_partitions.js';
import { leasePartitionsMigration } from './migrations/Migration20261203070000_tickwork_lease_partitions.js';
import { schedulePartitionsMigration } from './migrations/Migration20261203080000_tickwork_schedule_partitions.js';
import { partitionLimitMigration } from './migrations/Migration20261203090000_tickwork_partition_limit.js';
import { completeByKeyMigration } from './migrations/Migration20261203103000_tickwork_complete_by_key.js';
import type { MigrationTarget } from './migrations/Migration20261123000000_tickwork_init.js';
import { COMPAT_TABLE, compatRows, type CompatRow, MIGRATIONS, MIGRATIONS_TABLE, type MigrationInfo } from './migrations/names.js';
import { releaseName } from './release.js';
import { checkOptions, type PostgresConnectionOptions, type SqliteConnectionOptions, type SqlStoreOptions } from './options.js';
import { ormDialect, ormPgSource } from './connection/orm.js';
import { driverPackagePath } from './connection/drivers.js';
import { loadPg } from './connection/pg.js';
import { checkAppliedMigrations } from './schema-check.js';
import { pgPoolConfig, schemaOf } from './store.js';

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Migrations applied by this call, oldest first (empty when the schema was current). */
  applied: string[];
  /** Every migration now applied. */
  current: string[];
}

/** A migration this release can apply: its declaration and the builder of its class. */
export interface ShippedMigration {
  info: MigrationInfo;
  build(target: MigrationTarget): typeof Migration;
}

/** Builders of {@link MIGRATIONS}, in the same order. */
const BUILDERS = [
  initMigration,
  schedulesMigration,
  exactlyOnceMigration,
  schemaCompatMigration,
  accessMigration,
  hotRenewalsMigration,
  runRequestIndexesMigration,
  runnersMigration,
  limitedRunsMigration,
  skippedSlotsMigration,
  maintenanceMigration,
  deadManMigration,
  partitionsMigration,
  runPartitionsMigration,
  leasePartitionsMigration,
  schedulePartitionsMigration,
  partitionLimitMigration,
  completeByKeyMigration,
];

/** What this release applies. */
export const SHIPPED: readonly ShippedMigration[] = MIGRATIONS.map((info, i) => ({ info, build: BUILDERS[i]! }));

/** Position of the migration that creates the declarations table: it and every later one record their rows. */
const COMPAT_FROM = MIGRATIONS.findIndex((m) => m.name === 'Migration20261202000000_tickwork_schema_compat');

/**
 * `build`'s class, with the declaration rows appended to its statements (so a migration and its
 * declaration commit together): the declarations-table migration records itself and every
 * earlier one, each later migration itself.
 */
function declared(shipped: readonly ShippedMigration[], i: number, target: MigrationTarget): typeof Migration {
  const Base = shipped[i]!.build(target) as unknown as new (...args: unknown[]) => Migration;
  if (i < COMPAT_FROM) return Base as unknown as typeof Migration;
  const rows = compatRows(
    shipped.map((m) => m.info),
    releaseName(),
  );
  const own = i === COMPAT_FROM ? rows.slice(0, i + 1) : [rows[i]!];
  const baseUp = Base.prototype.up as () => void | Promise<void>;
  return class extends Base {
    override async up(): Promise<void> {
      await baseUp.call(this);
      for (const row of own) this.addSql(compatInsert(target, row));
    }
  } as unknown as typeof Migration;
}

function migratorOptions(dialect: 'postgresql' | 'sqlite', schema: string, shipped: readonly ShippedMigration[]) {
  return {
    tableName: dialect === 'postgresql' ? `${schema}.${MIGRATIONS_TABLE}` : MIGRATIONS_TABLE,
    migrationsList: shipped.map((m, i) => ({ name: m.info.name, class: declared(shipped, i, { dialect, schema }) })),
    transactional: true,
    allOrNothing: true,
    disableForeignKeys: false,
    snapshot: false,
    silent: true,
  };
}

async function ownOrm(options: PostgresConnectionOptions | SqliteConnectionOptions): Promise<MikroORM> {
  const { MikroORM } = await import('@mikro-orm/core');
  const common = { discovery: { warnWhenNoEntities: false }, entities: [], debug: false, allowGlobalContext: true };
  driverPackagePath(options.driver);
  if (options.driver === 'sqlite') {
    const { LibSqlDriver } = await import('@mikro-orm/libsql');
    // A busy timeout on MikroORM's connection too: a concurrent migrator waits for the write lock instead of failing at once.
    const timeout = options.busyTimeoutMs ?? 5000;
    return MikroORM.init({
      ...common,
      driver: LibSqlDriver,
      dbName: options.dbName,
      driverOptions: { connection: { timeout } },
    } as Options);
  }
  const { PostgreSqlDriver } = await import('@mikro-orm/postgresql');
  const { config } = pgPoolConfig(options);
  return MikroORM.init({
    ...common,
    driver: PostgreSqlDriver,
    ...(config.connectionString ? { clientUrl: config.connectionString } : {}),
    host: config.host,
    port: config.port,
    ...(config.database ? { dbName: config.database } : {}),
    ...(config.user === undefined ? {} : { user: config.user }),
    ...(config.password === undefined ? {} : { password: String(config.password) }),
    pool: { min: 0, max: 2 },
    driverOptions: { connection: { connectionTimeoutMillis: config.connectionTimeoutMillis } },
  } as Options);
}

/**
 * Retries `fn` (up to 3 tries) when it failed on a catalog race: MikroORM's Migrator lists
 * every table of the database with `::regclass` casts, which fail with 3F000 / 42P01 when
 * another client drops a schema or table at that moment. The failed try changed nothing.
 */
async function introspecting<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 3 || (code !== '3F000' && code !== '42P01')) throw error;
    }
  }
}

/**
 * True when an SQLite migration failed on another process's write lock. knex reports a
 * transaction whose BEGIN or first write met SQLITE_BUSY as "Transaction query already complete".
 */
function isSqliteLocked(error: unknown): boolean {
  return /SQLITE_BUSY|database is locked|Transaction query already complete/i.test((error as Error).message ?? '');
}

/** How long a SQLite migration keeps retrying while other processes hold the file's write lock (or migrate it first). */
const SQLITE_MIGRATION_WAIT_MS = 30_000;

/**
 * SQLite has no advisory lock: when another process created the same tables first (or
 * holds the write lock), our migration fails and rolls back; after a pause the next try
 * finds them recorded and has nothing to do. Tries go on for {@link SQLITE_MIGRATION_WAIT_MS}
 * (pauses doubling to about 1 s, with jitter so the losers do not retry in step): a busy
 * machine where each process first loads MikroORM can keep the lock longer than a few tries.
 * A migration blocked for longer fails.
 */
async function afterConcurrentMigrations<T>(fn: () => Promise<T>, beforeRetry: () => Promise<void>): Promise<T> {
  const deadline = Date.now() + SQLITE_MIGRATION_WAIT_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      // "database is locked": MikroORM's connection has no busy timeout, so it fails at once while another migrator writes.
      if (
        Date.now() >= deadline ||
        error instanceof TickworkError ||
        (!/already exists/i.test((error as Error).message ?? '') && !isSqliteLocked(error))
      )
        throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random())));
      await beforeRetry();
    }
  }
}

/**
 * Runs `fn` holding a session-level advisory lock on the schema (PostgreSQL), so migrations
 * started at the same moment run one after the other instead of colliding on CREATE.
 */
async function withMigrationLock<T>(options: SqlStoreOptions, schema: string, fn: () => Promise<T>): Promise<T> {
  const pg = await loadPg();
  const config = 'orm' in options ? ormPgSource(options.orm).clientConfig() : pgPoolConfig(options as PostgresConnectionOptions).config;
  const client = new pg.Client({ ...config, application_name: `tickwork:${schema}:migrate` });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`tickwork_migrate:${schema}`]);
    return await fn();
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => {});
  }
}

/**
 * Brings the Tickwork tables to this version's schema (`tickwork migrate` calls it).
 * Safe to run any number of times, and from several processes at once: a process whose
 * migration lost the race (its transaction rolled back) finds the schema current and succeeds.
 */
export async function migrate(options: SqlStoreOptions): Promise<MigrateResult> {
  return migrateWith(options, SHIPPED);
}

/** {@link migrate} with the migrations of a given release (tests play a newer release with it). */
export async function migrateWith(options: SqlStoreOptions, shipped: readonly ShippedMigration[]): Promise<MigrateResult> {
  checkOptions(options);
  const names = shipped.map((m) => m.info.name);
  const injected = 'orm' in options;
  const dialect = injected ? ormDialect(options.orm) : options.driver;
  const schema = schemaOf(options);
  const where = injected
    ? `the database of the injected ORM${dialect === 'postgresql' ? `, schema "${schema}"` : ''}`
    : options.driver === 'postgresql'
      ? `${pgPoolConfig(options).where} schema "${schema}"`
      : `SQLite file ${options.dbName}`;
  let orm: MikroORM | undefined;
  const run = async (): Promise<MigrateResult> => {
    orm ??= injected ? options.orm : await ownOrm(options);
    // WAL first (a fresh file is in rollback-journal mode): readers then never wait for a migrator's write lock, so
    // concurrent migrators only take turns on writing instead of also failing each other's schema listings.
    if (dialect === 'sqlite')
      await orm.em
        .getConnection()
        .execute('PRAGMA journal_mode = WAL')
        .catch(() => undefined);
    const { Migrator } = await import('@mikro-orm/migrations');
    const config = orm.config;
    const previous = config.get('migrations');
    // The Migrator reads its options once, in its constructor: lend it ours, then give the host's back.
    config.set('migrations', { ...previous, ...migratorOptions(dialect, schema, shipped) } as unknown as typeof previous);
    let migrator: InstanceType<typeof Migrator>;
    try {
      migrator = new Migrator(orm.em as never);
    } finally {
      config.set('migrations', previous);
    }
    const executed = await introspecting(async () => (await migrator.getExecutedMigrations()).map((m) => m.name));
    if (executed.some((name) => !names.includes(name))) {
      // A newer release migrated: fine (nothing to apply) when it declares this release may run against it, refused otherwise.
      const table = dialect === 'postgresql' ? `"${schema}".${COMPAT_TABLE}` : COMPAT_TABLE;
      const readCompat = async () =>
        (await orm!.em
          .getConnection()
          .execute(`SELECT name, version, oldest_version, oldest_release, applied_by FROM ${table}`)) as CompatRow[];
      await checkAppliedMigrations(
        executed,
        where,
        readCompat,
        shipped.map((m) => m.info),
      );
      return { applied: [], current: executed };
    }
    let applied: string[];
    try {
      applied = await introspecting(async () => (await migrator.up()).map((m) => m.name));
    } catch (error) {
      // Another process may have applied the same migrations at the same moment; ours rolled back.
      const now = (await migrator.getExecutedMigrations().catch(() => [])).map((m) => m.name);
      if (names.every((name) => now.includes(name))) return { applied: [], current: now };
      if (isAccessError(error) || isSqliteLocked(error)) throw error;
      // Nobody else applied it: the migration itself failed (and was rolled back). Final, not retried.
      throw new StoreSchemaError(
        `${PREFIX} migrate: migrating ${where} failed and was rolled back, nothing changed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    // WAL lets readers and the writer proceed together; it is a property of the file, so set it once here.
    // Best effort: switching needs exclusive access, and every store connection retries it on open.
    if (dialect === 'sqlite')
      await orm.em
        .getConnection()
        .execute('PRAGMA journal_mode = WAL')
        .catch(() => undefined);
    return { applied, current: [...executed, ...applied] };
  };
  try {
    // A knex transaction that met the lock can leave its connection unusable: retry on a fresh ORM of our own.
    const freshOrm = async () => {
      if (injected) return;
      await orm?.close(true);
      orm = undefined;
    };
    return await (dialect === 'postgresql' ? withMigrationLock(options, schema, run) : afterConcurrentMigrations(run, freshOrm));
  } catch (error) {
    if (error instanceof TickworkError) throw error;
    if (isAccessError(error)) throw dialect === 'sqlite' ? sqliteError(error, where, 'migrate') : pgError(error, where, 'migrate');
    throw new StoreSchemaError(
      `${PREFIX} migrate: migrating ${where} failed and was rolled back, nothing changed: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    if (!injected) await orm?.close(true);
  }
}
