/**
 * The fourth migration: the table of rolling-upgrade declarations. Every migration from
 * this one on records its schema version and the oldest release that may keep running
 * against it (see `names.ts`); this one also records the first three.
 */
import { Migration } from '@mikro-orm/migrations';
import { COMPAT_TABLE, type CompatRow } from './names.js';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** The statement that records `row` (every value is a constant of the release, quoted here). */
export function compatInsert(target: MigrationTarget, row: CompatRow): string {
  const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
  const text = (value: string) => `'${value.replaceAll("'", "''")}'`;
  return `INSERT INTO ${s}${COMPAT_TABLE} (name, version, oldest_version, oldest_release, applied_by) VALUES (${text(row.name)}, ${row.version}, ${row.oldest_version}, ${text(row.oldest_release)}, ${text(row.applied_by)})`;
}

/** Builds the migration class of the declarations table for `target`. */
export function schemaCompatMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261202000000TickworkSchemaCompat extends Migration {
    override up(): void {
      const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
      this.addSql(
        `CREATE TABLE ${s}${COMPAT_TABLE} (name varchar(255) PRIMARY KEY, version integer NOT NULL, oldest_version integer NOT NULL, oldest_release varchar(255) NOT NULL, applied_by varchar(255) NOT NULL)`,
      );
    }

    override down(): void {
      const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
      this.addSql(`DROP TABLE IF EXISTS ${s}${COMPAT_TABLE}`);
    }
  } as unknown as typeof Migration;
}
