/**
 * The audit log and access tokens on either dialect: plain single statements (no claim logic,
 * no locks beyond the row's), so one implementation serves both. Instants are passed as the
 * dialect's column type wants them (timestamptz / epoch milliseconds) by {@link SqlAccessTarget.instant}.
 */
import {
  auditPageOf,
  auditRecordOf,
  checkAccessToken,
  checkAuditInput,
  checkAuditQuery,
  duplicateTokenError,
  isAccessTokenId,
  MAX_ACCESS_TOKENS,
  tooManyTokensError,
  type AccessTokenRecord,
  type AuditInput,
  type AuditPage,
  type AuditQuery,
  type AuditRecord,
} from '@tickwork/core/store';
import { PREFIX } from './errors.js';
import { toDate, type Row } from './rows.js';
import { check } from './validate.js';

/** What the access statements need of a dialect store. */
export interface SqlAccessTarget {
  /** Runs one statement; `read` statements may be retried after a lost connection. */
  query(sql: string, params: readonly unknown[], operation: string, read: boolean): Promise<Row[]>;
  /** The placeholder of parameter `n` (1-based), typed where the dialect needs it (`$n::type` / `?n`). */
  param(n: number, type: 'text' | 'bigint' | 'timestamptz'): string;
  /** Table names, schema-qualified where the dialect has schemas. */
  audit: string;
  token: string;
  /** An instant as a statement parameter. */
  instant(date: Date): unknown;
}

function tokenOf(row: Row): AccessTokenRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    role: String(row.role),
    hash: String(row.hash),
    createdAt: toDate(row.created_at),
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : toDate(row.expires_at),
  };
}

/** The Store's audit and token methods over one {@link SqlAccessTarget}. */
export class SqlAccess {
  constructor(private readonly target: SqlAccessTarget) {}

  async appendAudit(entry: AuditInput): Promise<AuditRecord> {
    const p = this.target.param;
    const checked = checkAuditInput(entry, `${PREFIX} appendAudit`);
    const rows = await this.target.query(
      `INSERT INTO ${this.target.audit} (at, action, entry) VALUES (${p(1, 'timestamptz')}, ${p(2, 'text')}, ${p(3, 'text')}) RETURNING id`,
      [this.target.instant(checked.entry.at), checked.entry.action, checked.json],
      'appendAudit',
      false,
    );
    return { id: String(rows[0]?.id), ...checked.entry };
  }

  async listAudit(query?: AuditQuery): Promise<AuditPage> {
    const p = this.target.param;
    const { limit, before } = checkAuditQuery(query, `${PREFIX} listAudit`);
    const rows = await this.target.query(
      before === null
        ? `SELECT id, at, entry FROM ${this.target.audit} ORDER BY id DESC LIMIT ${p(1, 'bigint')}`
        : `SELECT id, at, entry FROM ${this.target.audit} WHERE id < ${p(2, 'bigint')} ORDER BY id DESC LIMIT ${p(1, 'bigint')}`,
      before === null ? [limit + 1] : [limit + 1, before],
      'listAudit',
      true,
    );
    return auditPageOf(
      rows.map((row) => auditRecordOf(String(row.id), toDate(row.at), String(row.entry))),
      limit,
    );
  }

  async pruneAudit(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    const p = this.target.param;
    check('pruneAudit', options);
    const batchSize = options.batchSize ?? 1000;
    let total = 0;
    for (;;) {
      // One short statement per batch: a long log never holds locks for long.
      const rows = await this.target.query(
        `DELETE FROM ${this.target.audit} WHERE id IN (SELECT id FROM ${this.target.audit} WHERE at < ${p(1, 'timestamptz')} ORDER BY at LIMIT ${p(2, 'bigint')}) RETURNING id`,
        [this.target.instant(options.olderThan), batchSize],
        'pruneAudit',
        false,
      );
      total += rows.length;
      if (rows.length < batchSize) return total;
    }
  }

  async addAccessToken(input: AccessTokenRecord): Promise<AccessTokenRecord> {
    const p = this.target.param;
    const token = checkAccessToken(input, `${PREFIX} addAccessToken`);
    const rows = await this.target.query(
      `INSERT INTO ${this.target.token} (id, name, role, hash, created_at, expires_at)
       SELECT ${p(1, 'text')}, ${p(2, 'text')}, ${p(3, 'text')}, ${p(4, 'text')}, ${p(5, 'timestamptz')}, ${p(6, 'timestamptz')}
       WHERE (SELECT count(*) FROM ${this.target.token}) < ${p(7, 'bigint')}
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        token.id,
        token.name,
        token.role,
        token.hash,
        this.target.instant(token.createdAt),
        token.expiresAt ? this.target.instant(token.expiresAt) : null,
        MAX_ACCESS_TOKENS,
      ],
      'addAccessToken',
      false,
    );
    if (rows.length === 1) return token;
    if (await this.getAccessToken(token.id)) throw duplicateTokenError(`${PREFIX} addAccessToken`, token.id);
    throw tooManyTokensError(`${PREFIX} addAccessToken`);
  }

  async getAccessToken(id: string): Promise<AccessTokenRecord | null> {
    const p = this.target.param;
    if (!isAccessTokenId(id)) return null;
    const rows = await this.target.query(`SELECT * FROM ${this.target.token} WHERE id = ${p(1, 'text')}`, [id], 'getAccessToken', true);
    return rows[0] ? tokenOf(rows[0]) : null;
  }

  async listAccessTokens(): Promise<AccessTokenRecord[]> {
    const rows = await this.target.query(`SELECT * FROM ${this.target.token} ORDER BY created_at, id`, [], 'listAccessTokens', true);
    return rows.map(tokenOf);
  }

  async removeAccessToken(id: string): Promise<boolean> {
    const p = this.target.param;
    if (!isAccessTokenId(id)) return false;
    const rows = await this.target.query(
      `DELETE FROM ${this.target.token} WHERE id = ${p(1, 'text')} RETURNING id`,
      [id],
      'removeAccessToken',
      false,
    );
    return rows.length === 1;
  }
}
