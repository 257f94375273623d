/** The memory store's audit log and access tokens (the checks are core's, shared by every store). */
import {
  auditPageOf,
  checkAccessToken,
  checkAuditInput,
  checkAuditQuery,
  duplicateTokenError,
  isAccessTokenId,
  MAX_ACCESS_TOKENS,
  tooManyTokensError,
  type AccessTokenRecord,
  type AuditPage,
  type AuditRecord,
} from '../store-access.js';
import type { MemoryData } from './backend.js';
import { PREFIX } from './validate.js';

/** Appends one row with the next id. */
export function appendAudit(d: MemoryData, input: unknown): AuditRecord {
  const { entry } = checkAuditInput(input, `${PREFIX} appendAudit`);
  const row: AuditRecord = { id: String(d.nextAuditId), ...entry };
  d.nextAuditId += 1;
  d.audit.push(row);
  return row;
}

/** A page of the log, newest first. */
export function listAudit(d: MemoryData, query: unknown): AuditPage {
  const { limit, before } = checkAuditQuery(query, `${PREFIX} listAudit`);
  const rows: AuditRecord[] = [];
  for (let i = d.audit.length - 1; i >= 0 && rows.length <= limit; i -= 1) {
    const row = d.audit[i] as AuditRecord;
    if (before === null || Number(row.id) < before) rows.push(row);
  }
  return auditPageOf(rows, limit);
}

/** Deletes rows older than `olderThan`; returns how many. */
export function pruneAudit(d: MemoryData, olderThan: Date): number {
  const kept = d.audit.filter((row) => row.at.getTime() >= olderThan.getTime());
  const deleted = d.audit.length - kept.length;
  d.audit = kept;
  return deleted;
}

/** Adds a token unless its id is taken or the store is full. */
export function addAccessToken(d: MemoryData, input: unknown): AccessTokenRecord {
  const token = checkAccessToken(input, `${PREFIX} addAccessToken`);
  if (d.accessTokens.has(token.id)) throw duplicateTokenError(`${PREFIX} addAccessToken`, token.id);
  if (d.accessTokens.size >= MAX_ACCESS_TOKENS) throw tooManyTokensError(`${PREFIX} addAccessToken`);
  d.accessTokens.set(token.id, token);
  return token;
}

/** Every token, oldest first. */
export function listAccessTokens(d: MemoryData): AccessTokenRecord[] {
  return [...d.accessTokens.values()].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** One token, or null. */
export function getAccessToken(d: MemoryData, id: unknown): AccessTokenRecord | null {
  return isAccessTokenId(id) ? (d.accessTokens.get(id) ?? null) : null;
}
