/**
 * The Store's audit-log and access-token methods on Redis (the checks are core's, shared by
 * every store); one script call each, so appends racing from several instances each get their
 * own id, and a token id is added once.
 */
import { StoreSchemaError } from '@tickwork/core';
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
import type { Redis } from 'ioredis';
import { asArray } from './codec.js';
import { MESSAGE_PREFIX } from './errors.js';
import type { Layout } from './keys.js';
import { check } from './validate.js';

/** Runs the access script with a request (the store's plumbing maps errors) and parses its answer. */
export type AccessScript = <T>(operation: string, request: Record<string, unknown>) => Promise<T>;
/** Runs plain commands against the command client. */
export type AccessCall = <T>(operation: string, work: (client: Redis) => Promise<T>) => Promise<T>;

function rowOf(id: string, text: unknown): AuditRecord {
  const s = String(text);
  const space = s.indexOf(' ');
  if (space < 0) throw new StoreSchemaError(`${MESSAGE_PREFIX} audit row ${id} is not one this version wrote`);
  return auditRecordOf(id, new Date(Number(s.slice(0, space))), s.slice(space + 1));
}

function tokenOf(text: string): AccessTokenRecord {
  const raw = JSON.parse(text) as Omit<AccessTokenRecord, 'createdAt' | 'expiresAt'> & { createdAt: number; expiresAt: number | null };
  return { ...raw, createdAt: new Date(raw.createdAt), expiresAt: raw.expiresAt === null ? null : new Date(raw.expiresAt) };
}

/** The access methods over a store's script runner and command client. */
export class RedisAccess {
  constructor(
    private readonly layout: Layout,
    private readonly script: AccessScript,
    private readonly call: AccessCall,
  ) {}

  async appendAudit(input: AuditInput): Promise<AuditRecord> {
    const { entry, json } = checkAuditInput(input, `${MESSAGE_PREFIX} appendAudit`);
    const at = entry.at.getTime();
    const id = await this.script<string>('appendAudit', { op: 'append', at: String(at), row: `${at} ${json}` });
    return { id: String(id), ...entry };
  }

  async listAudit(query?: AuditQuery): Promise<AuditPage> {
    const { limit, before } = checkAuditQuery(query, `${MESSAGE_PREFIX} listAudit`);
    const rows = asArray<{ id: string; row: unknown }>(
      await this.script('listAudit', { op: 'list', before: before === null ? null : String(before), limit: limit + 1 }),
    );
    return auditPageOf(
      rows.map((r) => rowOf(String(r.id), r.row)),
      limit,
    );
  }

  async pruneAudit(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    check('pruneAudit', options);
    const olderThan = options.olderThan.getTime();
    const batch = options.batchSize ?? 1000;
    let total = 0;
    for (;;) {
      // One short script per batch, so a long log never blocks Redis for long.
      const deleted = await this.script<number>('pruneAudit', { op: 'prune', olderThan: String(olderThan), batch });
      total += deleted;
      if (deleted < batch) return total;
    }
  }

  async addAccessToken(input: AccessTokenRecord): Promise<AccessTokenRecord> {
    const token = checkAccessToken(input, `${MESSAGE_PREFIX} addAccessToken`);
    const text = JSON.stringify({
      ...token,
      createdAt: token.createdAt.getTime(),
      expiresAt: token.expiresAt ? token.expiresAt.getTime() : null,
    });
    const answer = await this.script<string>('addAccessToken', { op: 'add', id: token.id, token: text, max: MAX_ACCESS_TOKENS });
    if (answer === 'taken') throw duplicateTokenError(`${MESSAGE_PREFIX} addAccessToken`, token.id);
    if (answer === 'full') throw tooManyTokensError(`${MESSAGE_PREFIX} addAccessToken`);
    return token;
  }

  async getAccessToken(id: string): Promise<AccessTokenRecord | null> {
    if (!isAccessTokenId(id)) return null;
    const text = await this.call('getAccessToken', (client) => client.hget(this.layout.meta('tokens'), id));
    return text === null ? null : tokenOf(text);
  }

  async listAccessTokens(): Promise<AccessTokenRecord[]> {
    const texts = await this.call('listAccessTokens', (client) => client.hvals(this.layout.meta('tokens')));
    return texts.map(tokenOf).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async removeAccessToken(id: string): Promise<boolean> {
    if (!isAccessTokenId(id)) return false;
    return (await this.call('removeAccessToken', (client) => client.hdel(this.layout.meta('tokens'), id))) === 1;
  }
}
