/**
 * The migrations this version ships, oldest first. Kept free of MikroORM so the
 * startup schema check can compare against it without loading the ORM.
 */

/** Names recorded in `tickwork_migrations`, oldest first. */
export const MIGRATION_NAMES: readonly string[] = [
  'Migration20261123000000_tickwork_init',
  'Migration20261124000000_tickwork_schedules',
  'Migration20261201000000_tickwork_exactly_once',
];

/** The table the migrator records applied migrations in. */
export const MIGRATIONS_TABLE = 'tickwork_migrations';
