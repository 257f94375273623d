/**
 * The dashboard's access tokens and audit log, kept in the store (core's Store contract:
 * `addAccessToken` … and `appendAudit` …), so every dashboard instance, a daemon's dashboard
 * port and `tickwork dashboard token create` see the same tokens and the same log. The store
 * keeps only the SHA-256 of a token's secret; the secret is shown once, at creation.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '@tickwork/core';
import type { AuditPage, AuditRecord } from '@tickwork/core/store';
import { AccessStoreError } from './errors.js';
import { isRole, type Role } from './roles.js';

/** A token as the dashboard shows it: never the secret, nor its hash. */
export interface TokenRecord {
  /** Public id (the token text starts with it), shown in listings and audit rows. */
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  /** Null: never expires. */
  expiresAt: Date | null;
}

/** What {@link AccessStore.verifyToken} found. */
export type TokenCheck = { status: 'ok'; token: TokenRecord } | { status: 'expired'; token: TokenRecord } | { status: 'unknown' };

/** One audited change: who, what, when, before → after (core's `AuditRecord`). */
export type AuditEntry = AuditRecord;
export type { AuditPage };

/** Tokens and audit log of a dashboard, over its store. */
export interface AccessStore {
  /** Creates a token; the returned `secret` is the only copy of it (show it once). */
  createToken(input: { name: string; role: Role; expiresAt: Date | null; now: Date }): Promise<{ secret: string; token: TokenRecord }>;
  listTokens(): Promise<TokenRecord[]>;
  /** One token by id, or null. */
  getToken(id: string): Promise<TokenRecord | null>;
  /** One token by id with the hash of its secret (the key its sessions are signed with), or null. */
  tokenKey(id: string): Promise<{ token: TokenRecord; hash: string } | null>;
  /** Revokes a token; false when there was none with that id. */
  revokeToken(id: string): Promise<boolean>;
  /** Looks a presented secret up (constant-time hash comparison). */
  verifyToken(secret: string, now: Date): Promise<TokenCheck>;
  /** Appends an audit row (durable when it resolves, as the store's writes are). */
  appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;
  /** The audit log, newest first; `limit` 1 … 500 (default 50). */
  listAudit(query?: { limit?: number; cursor?: string | null }): Promise<AuditPage>;
}

const TOKEN_PATTERN = /^tw_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** The dashboard's {@link AccessStore} on any core `Store`. */
export function createStoreAccess(store: Store): AccessStore {
  const read = async (id: string) => {
    const stored = await store.getAccessToken(id);
    if (!stored) return null;
    if (!isRole(stored.role))
      throw new AccessStoreError(
        `access token ${stored.id} in the store has the role ${JSON.stringify(stored.role)}, which the dashboard does not know`,
      );
    return { token: tokenOf(stored), hash: stored.hash };
  };
  return {
    async createToken({ name, role, expiresAt, now }) {
      if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
        throw new AccessStoreError(`token name must be 1 … 100 characters, got ${JSON.stringify(name)}`);
      }
      if (!isRole(role)) throw new AccessStoreError(`token role must be viewer, operator or admin, got ${JSON.stringify(role)}`);
      const id = randomBytes(6).toString('hex');
      const secretPart = randomBytes(32).toString('base64url');
      const token: TokenRecord = { id, name: name.trim(), role, createdAt: now, expiresAt };
      await store.addAccessToken({ ...token, hash: sha256(secretPart) });
      return { secret: `tw_${id}_${secretPart}`, token };
    },
    async listTokens() {
      return (await store.listAccessTokens()).filter((t) => isRole(t.role)).map(tokenOf);
    },
    async getToken(id) {
      return (await read(id))?.token ?? null;
    },
    tokenKey: read,
    async revokeToken(id) {
      return store.removeAccessToken(id);
    },
    async verifyToken(secret, now) {
      const match = TOKEN_PATTERN.exec(typeof secret === 'string' ? secret.trim() : '');
      if (!match) return { status: 'unknown' };
      const found = await read(match[1] as string);
      if (!found || !/^[a-f0-9]{64}$/.test(found.hash)) return { status: 'unknown' };
      const presented = Buffer.from(sha256(match[2] as string), 'hex');
      if (!timingSafeEqual(presented, Buffer.from(found.hash, 'hex'))) return { status: 'unknown' };
      if (found.token.expiresAt && found.token.expiresAt.getTime() <= now.getTime()) return { status: 'expired', token: found.token };
      return { status: 'ok', token: found.token };
    },
    appendAudit: (entry) => store.appendAudit(entry),
    async listAudit(query = {}) {
      const limit = query.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500)
        throw new AccessStoreError(`audit limit must be an integer 1 … 500, got ${String(limit)}`);
      return store.listAudit({ limit, cursor: query.cursor ?? null });
    },
  };
}

function tokenOf(stored: { id: string; name: string; role: string; createdAt: Date; expiresAt: Date | null }): TokenRecord {
  return { id: stored.id, name: stored.name, role: stored.role as Role, createdAt: stored.createdAt, expiresAt: stored.expiresAt };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
