/**
 * The startup check: one cheap query of the migrations table (not the Migrator), so a
 * store never runs against a schema it does not know — except a newer one whose
 * migrations all declare that this release may keep running (expand/contract, see
 * `migrations/names.ts`), which costs a second query of the declarations.
 */
import { StoreSchemaError } from '@tickwork/core';
import { PREFIX } from './errors.js';
import { type CompatRow, MIGRATIONS, type MigrationInfo } from './migrations/names.js';
import { releaseName } from './release.js';

/** What the check found: every known migration applied, and which newer ones it accepted. */
export interface SchemaCheck {
  /** Migrations of a newer release this one runs alongside (empty when the schema is exactly this version's). */
  newer: string[];
}

/**
 * Compares the applied migrations with the ones this version ships (`known`). A schema
 * missing one of them: "run `tickwork migrate`". A newer schema: accepted when every
 * migration this release does not know declares (in its compatibility row, read by
 * `readCompat`) that releases of this schema version may keep running; refused otherwise,
 * naming both schema versions and what to do.
 */
export async function checkAppliedMigrations(
  applied: readonly string[],
  where: string,
  readCompat: () => Promise<CompatRow[]>,
  known: readonly MigrationInfo[] = MIGRATIONS,
): Promise<SchemaCheck> {
  const names = known.map((m) => m.name);
  const unknown = applied.filter((name) => !names.includes(name));
  const missing = names.filter((name) => !applied.includes(name));
  if (unknown.length === 0) {
    if (missing.length > 0) {
      throw new StoreSchemaError(
        `${PREFIX} the Tickwork schema at ${where} is missing migrations (${missing.join(', ')}); run \`tickwork migrate\` (or call migrate() from @tickwork/store-sql)`,
      );
    }
    return { newer: [] };
  }
  const undeclared = () =>
    new StoreSchemaError(
      `${PREFIX} the Tickwork schema at ${where} is newer than this ${releaseName()} (unknown migrations: ${unknown.join(', ')}${missing.length > 0 ? `; and without this release's ${missing.join(', ')}` : ''}), and they do not declare that older releases may run against it; upgrade @tickwork/store-sql on this host`,
    );
  // A newer schema is only judged when it holds everything this release ships (the declarations table included).
  if (missing.length > 0) throw undeclared();
  const rows = await readCompat().catch(() => [] as CompatRow[]);
  const byName = new Map(rows.map((r) => [r.name, r]));
  const newer = unknown.map((name) => byName.get(name));
  if (newer.some((r) => r === undefined)) throw undeclared();
  const declared = newer as CompatRow[];
  const newest = declared.reduce((a, b) => (b.version > a.version ? b : a));
  const needed = declared.reduce((a, b) => (b.oldest_version > a.oldest_version ? b : a));
  const mine = known.length;
  const sameHistory = needed.oldest_version <= mine && known[needed.oldest_version - 1]!.name === needed.oldest_release;
  if (!sameHistory) {
    throw new StoreSchemaError(
      `${PREFIX} the Tickwork schema at ${where} is newer than this ${releaseName()} and incompatible with it: it is at schema version ${newest.version} ` +
        `(${newest.name}, migrated by ${newest.applied_by}), and only releases of schema version ${needed.oldest_version} (${needed.oldest_release}) or later may run against it; ` +
        `this one is at schema version ${mine} (${known[mine - 1]!.name}). Upgrade @tickwork/store-sql on this host (a newer release ran \`tickwork migrate\` with a contract migration before every runner was upgraded)`,
    );
  }
  return { newer: unknown };
}
