/**
 * The database drivers are optional peer dependencies: a PostgreSQL user installs
 * `@mikro-orm/postgresql` (which brings `pg`), an SQLite user `@mikro-orm/libsql` (which
 * brings `libsql`, whose binary ships prebuilt in the registry). The store loads the raw
 * driver through the MikroORM package the user installed, so both share one copy.
 */
import { createRequire } from 'node:module';
import { PREFIX, SqlStoreOptionsError } from '../errors.js';

/** The MikroORM driver package and raw driver of each dialect. */
export const DRIVER_PACKAGES = {
  postgresql: { orm: '@mikro-orm/postgresql', driver: 'pg' },
  sqlite: { orm: '@mikro-orm/libsql', driver: 'libsql' },
} as const;

/** The dialects the store speaks. */
export type Dialect = keyof typeof DRIVER_PACKAGES;

const MIKRO_ORM_VERSION = '6.6.16';
const here = createRequire(import.meta.url);
const resolved = new Map<Dialect, string>();

/**
 * Where the dialect's MikroORM driver package is installed; fails with a message naming
 * the package to install when it is not.
 */
export function driverPackagePath(dialect: Dialect): string {
  const known = resolved.get(dialect);
  if (known) return known;
  const { orm, driver } = DRIVER_PACKAGES[dialect];
  let path: string;
  try {
    path = here.resolve(orm);
  } catch {
    throw new SqlStoreOptionsError(
      `${PREFIX} driver "${dialect}" needs the package ${orm} (it brings ${driver}), which is not installed: run \`npm install ${orm}@${MIKRO_ORM_VERSION}\``,
    );
  }
  resolved.set(dialect, path);
  return path;
}

/** Loads the dialect's raw driver module (`pg` or `libsql`) from its MikroORM package. */
export function loadDriver<T>(dialect: Dialect): T {
  const module = createRequire(driverPackagePath(dialect))(DRIVER_PACKAGES[dialect].driver) as T & { default?: T };
  return module.default ?? module;
}

/**
 * Runs `load` (a driver's synchronous `require`) with `owner[name]` a plain writable property holding
 * `value`, then puts `descriptor` (the property as it was) back, also when `load` throws.
 */
export function withPropertyDuringLoad<T>(owner: object, name: string, descriptor: PropertyDescriptor, value: unknown, load: () => T): T {
  Object.defineProperty(owner, name, { configurable: true, enumerable: descriptor.enumerable ?? false, writable: true, value });
  try {
    return load();
  } finally {
    Object.defineProperty(owner, name, descriptor);
  }
}
