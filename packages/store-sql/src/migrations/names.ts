/**
 * The migrations this version ships, oldest first, each with its rolling-upgrade
 * declaration. Kept free of MikroORM so the startup schema check can compare against it
 * without loading the ORM.
 */
import { PREFIX } from '../errors.js';

/**
 * Whether releases older than a migration may keep running against the schema it leaves.
 *
 * - `expand`: the migration only adds what older code does not look at (a table, a nullable
 *   or defaulted column, an index, a function under a new name) and keeps every function
 *   signature and behaviour older releases call. Every release that could run against the
 *   previous schema can still run against this one.
 * - `contract`: older code would misbehave (a dropped or renamed column, a changed function
 *   or constraint). Only releases that ship `oldestRelease` (the name of this migration, or
 *   of the expand migration after which releases stopped using what this one removes) or a
 *   later migration may run against it.
 */
export type MigrationCompat = { kind: 'expand' } | { kind: 'contract'; oldestRelease: string };

/** One shipped migration: its name in `tickwork_migrations` and its declaration. */
export interface MigrationInfo {
  name: string;
  compat: MigrationCompat;
}

/** What this version ships, oldest first. A new migration is appended here and in `migrate.ts`'s builders. */
export const MIGRATIONS: readonly MigrationInfo[] = [
  // The first three predate the declarations; each needed every runner upgraded.
  { name: 'Migration20261123000000_tickwork_init', compat: { kind: 'contract', oldestRelease: 'Migration20261123000000_tickwork_init' } },
  {
    name: 'Migration20261124000000_tickwork_schedules',
    compat: { kind: 'contract', oldestRelease: 'Migration20261124000000_tickwork_schedules' },
  },
  {
    name: 'Migration20261201000000_tickwork_exactly_once',
    compat: { kind: 'contract', oldestRelease: 'Migration20261201000000_tickwork_exactly_once' },
  },
  // Adds only the declarations' table (releases of the exactly-once schema never read it, but refuse any unknown migration).
  { name: 'Migration20261202000000_tickwork_schema_compat', compat: { kind: 'expand' } },
  // Adds the audit-log and access-token tables (#17), which older releases never read.
  { name: 'Migration20261202224500_tickwork_access', compat: { kind: 'expand' } },
  // Drops the lease index so renewals are HOT updates: older releases run unchanged (only their query plans differ).
  { name: 'Migration20261202230000_tickwork_hot_renewals', compat: { kind: 'expand' } },
  // Two indexes of run-now requests (per schedule pending; consumed, for retention): nothing older releases depend on.
  { name: 'Migration20261202231000_tickwork_run_request_indexes', compat: { kind: 'expand' } },
  // Adds the runner table (and on PostgreSQL two functions); older releases never heartbeat, so their runs keep the lease rule.
  { name: 'Migration20261203000000_tickwork_runners', compat: { kind: 'expand' } },
  // The state's scheduled-run counter (maxRuns); the claim and upsert functions keep their signatures and, for a
  // caller that sends no max_runs, their behaviour.
  { name: 'Migration20261203010000_tickwork_limited_runs', compat: { kind: 'expand' } },
  // Skipped ranges and skip reasons (#20): added columns and a claim function under a new name; older releases ignore both.
  { name: 'Migration20261203020000_tickwork_skipped_slots', compat: { kind: 'expand' } },
  // Adds the maintenance table (`claimMaintenance`: who prunes this hour without a daemon), which older releases never read.
  { name: 'Migration20261203030000_tickwork_maintenance', compat: { kind: 'expand' } },
  // Dead-man alerts and recoveries (#20): state columns kept by a trigger on PostgreSQL (older releases' functions
  // unchanged, and their completions keep the columns too) and a claim-overdue function under a new name.
  { name: 'Migration20261203040000_tickwork_dead_man', compat: { kind: 'expand' } },
  // Partition leases (#23): two tables older releases never read.
  { name: 'Migration20261203050000_tickwork_partitions', compat: { kind: 'expand' } },
  // The run log partitioned by month of slot_at on PostgreSQL (#23; nothing on SQLite): same table name, columns and
  // function signatures, so older releases run unchanged.
  { name: 'Migration20261203060000_tickwork_run_partitions', compat: { kind: 'expand' } },
  // leasePartitions as one PostgreSQL function (#23), under a new name; nothing on SQLite.
  { name: 'Migration20261203070000_tickwork_lease_partitions', compat: { kind: 'expand' } },
  // The partition of each runtime schedule, stored and indexed (#23: listSchedules({ partitions })); on PostgreSQL
  // kept by a trigger, so older releases' inserts get it too. A column older releases never read.
  { name: 'Migration20261203080000_tickwork_schedule_partitions', compat: { kind: 'expand' } },
  // leasePartitions' `limit` (#23's cold start) as a PostgreSQL function under a new name, the old one kept; nothing on SQLite.
  { name: 'Migration20261203090000_tickwork_partition_limit', compat: { kind: 'expand' } },
  // completeRuns finds each run by its whole primary key (#22: without statistics the planner read the partial index of
  // running runs once per completion): the same function, signature and answers on PostgreSQL; nothing on SQLite.
  { name: 'Migration20261203103000_tickwork_complete_by_key', compat: { kind: 'expand' } },
];

/** Names recorded in `tickwork_migrations`, oldest first. */
export const MIGRATION_NAMES: readonly string[] = MIGRATIONS.map((m) => m.name);

/** The table the migrator records applied migrations in. */
export const MIGRATIONS_TABLE = 'tickwork_migrations';

/** The table each migration (from the fourth on) records its schema version and declaration in. */
export const COMPAT_TABLE = 'tickwork_schema_compat';

/** One row of {@link COMPAT_TABLE}: what an older release reads to decide whether it may run. */
export interface CompatRow {
  name: string;
  /** 1-based position of the migration in its release's list. */
  version: number;
  /** The oldest schema version whose releases may run against this migration's schema. */
  oldest_version: number;
  /** The migration name at `oldest_version`. */
  oldest_release: string;
  /** `@tickwork/store-sql <version>` of the release that applied it. */
  applied_by: string;
}

/**
 * The rows each migration of `list` records: its version and the oldest release that may
 * run against it (an expand migration inherits the previous one's; a contract names its own).
 */
export function compatRows(list: readonly MigrationInfo[], appliedBy: string): CompatRow[] {
  const rows: CompatRow[] = [];
  for (const [i, info] of list.entries()) {
    let oldest: number;
    if (info.compat.kind === 'expand') {
      oldest = i === 0 ? 1 : rows[i - 1]!.oldest_version;
    } else {
      const release = info.compat.oldestRelease;
      const at = list.findIndex((m) => m.name === release);
      if (at < 0 || at > i)
        throw new Error(`${PREFIX} migration ${info.name} names oldestRelease ${release}, which is not it or an earlier migration`);
      oldest = at + 1;
    }
    rows.push({ name: info.name, version: i + 1, oldest_version: oldest, oldest_release: list[oldest - 1]!.name, applied_by: appliedBy });
  }
  return rows;
}
