/**
 * The fifth migration (issue #17): the audit log and the access tokens of the dashboard (or
 * any management UI) in the store, so its instances and the CLI share them. Two new tables,
 * nothing else touched: a populated schema upgrades in place, and the previous version's
 * store keeps working beside them.
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Statements adding the audit and token tables on PostgreSQL (`schema` is a validated identifier). */
export function accessPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    // The entry (actor, action, target, before, after) is core's JSON text; the action is a column of its own for a DBA's queries.
    `CREATE TABLE ${s}.tickwork_audit (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL,
      action text NOT NULL,
      entry text NOT NULL
    )`,
    `CREATE INDEX tickwork_audit_at ON ${s}.tickwork_audit (at)`,
    `CREATE TABLE ${s}.tickwork_access_token (
      id text COLLATE "C" PRIMARY KEY,
      name text NOT NULL,
      role text NOT NULL,
      hash text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz
    )`,
  ];
}

/** The same on SQLite (instants in epoch milliseconds, as the other tables). AUTOINCREMENT: ids are never reused after a prune. */
export function accessSqlite(): string[] {
  return [
    `CREATE TABLE tickwork_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      action TEXT NOT NULL,
      entry TEXT NOT NULL
    )`,
    `CREATE INDEX tickwork_audit_at ON tickwork_audit (at)`,
    `CREATE TABLE tickwork_access_token (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL,
      hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER
    )`,
  ];
}

/** Builds the migration class adding the audit log and access tokens for `target`. */
export function accessMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261202224500TickworkAccess extends Migration {
    override up(): void {
      for (const sql of target.dialect === 'postgresql' ? accessPostgres(target.schema) : accessSqlite()) this.addSql(sql);
    }

    override down(): void {
      const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
      for (const table of ['tickwork_access_token', 'tickwork_audit']) this.addSql(`DROP TABLE IF EXISTS ${s}${table}`);
    }
  } as unknown as typeof Migration;
}
