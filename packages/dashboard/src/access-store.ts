/**
 * Where the dashboard keeps what core's Store contract has no place for: its access tokens
 * (hashed) and its audit log. The contract is shared by every store and changes under other
 * work, so the dashboard owns this small interface instead; {@link createFileAccessStore}
 * implements it on two files in a private directory.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessStoreError } from './errors.js';
import { isRole, type Role } from './roles.js';

/** A token as kept at rest: never the secret, only its SHA-256. */
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

/** One audited change: who, what, when, before → after. */
export interface AuditEntry {
  /** Increasing within the log. */
  id: number;
  at: Date;
  actor: { id: string; name: string; role: Role; via: 'token' | 'host' | 'cli' };
  /** e.g. `job.pause`, `schedule.upsert`, `token.create`. */
  action: string;
  /** What was changed: a job code, a schedule key, a token id. */
  target: { code?: string; key?: string; token?: string };
  before: unknown;
  after: unknown;
}

/** One page of the audit log, newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

/** Tokens and audit log of a dashboard. */
export interface AccessStore {
  /** Creates a token; the returned `secret` is the only copy of it (show it once). */
  createToken(input: { name: string; role: Role; expiresAt: Date | null; now: Date }): Promise<{ secret: string; token: TokenRecord }>;
  listTokens(): Promise<TokenRecord[]>;
  /** One token by id, or null. */
  getToken(id: string): Promise<TokenRecord | null>;
  /** Revokes a token; false when there was none with that id. */
  revokeToken(id: string): Promise<boolean>;
  /** Looks a presented secret up (constant-time hash comparison). */
  verifyToken(secret: string, now: Date): Promise<TokenCheck>;
  /** Appends an audit row durably (written and synced before it resolves). */
  appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;
  /** The audit log, newest first; `limit` 1 … 500 (default 50). */
  listAudit(query?: { limit?: number; cursor?: string | null }): Promise<AuditPage>;
}

const TOKEN_PATTERN = /^tw_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * An {@link AccessStore} on two files in `directory` (created 0700): `tokens.json` (rewritten
 * atomically, 0600) and `audit.jsonl` (one JSON line per change, appended and fsynced, 0600).
 * Several processes may share the directory (the CLI creates tokens while a dashboard runs):
 * the token file is re-read whenever it changed on disk.
 */
export function createFileAccessStore(options: { directory: string }): AccessStore {
  const dir = options.directory;
  const tokensFile = join(dir, 'tokens.json');
  const auditFile = join(dir, 'audit.jsonl');
  let cache: { mtimeMs: number; size: number; tokens: StoredToken[] } | null = null;
  // The last audit id and the log's size after this process wrote it: an append reads the log only when someone else wrote since.
  let lastAudit: { id: number; size: number } | null = null;

  const ensureDir = () => {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new AccessStoreError(`cannot create the dashboard's data directory ${dir}: ${(error as Error).message}`, { cause: error });
    }
  };
  const readTokens = (): StoredToken[] => {
    let stat;
    try {
      stat = statSync(tokensFile);
    } catch {
      cache = { mtimeMs: 0, size: 0, tokens: [] };
      return [];
    }
    if (cache && cache.mtimeMs === stat.mtimeMs && cache.size === stat.size) return cache.tokens;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(tokensFile, 'utf8'));
    } catch (error) {
      throw new AccessStoreError(`${tokensFile} is not readable JSON: ${(error as Error).message}`, { cause: error });
    }
    if (!Array.isArray(parsed)) throw new AccessStoreError(`${tokensFile} must hold a list of tokens`);
    const tokens = parsed.map((row: unknown, i) => storedTokenOf(row, `${tokensFile}[${i}]`));
    cache = { mtimeMs: stat.mtimeMs, size: stat.size, tokens };
    return tokens;
  };
  const writeTokens = (tokens: StoredToken[]) => {
    ensureDir();
    const temp = `${tokensFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
    syncFile(temp);
    renameSync(temp, tokensFile);
    cache = null;
  };
  const readAudit = (): AuditEntry[] => {
    let text: string;
    try {
      text = readFileSync(auditFile, 'utf8');
    } catch {
      return [];
    }
    const entries: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const raw = JSON.parse(line) as AuditEntry & { at: string };
        entries.push({ ...raw, at: new Date(raw.at) });
      } catch {
        // A torn last line (crash mid-append) is skipped rather than hiding the whole log.
      }
    }
    return entries;
  };

  return {
    async createToken({ name, role, expiresAt, now }) {
      if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
        throw new AccessStoreError(`token name must be 1 … 100 characters, got ${JSON.stringify(name)}`);
      }
      if (!isRole(role)) throw new AccessStoreError(`token role must be viewer, operator or admin, got ${JSON.stringify(role)}`);
      const id = randomBytes(6).toString('hex');
      const secretPart = randomBytes(32).toString('base64url');
      const token: StoredToken = { id, name: name.trim(), role, createdAt: now.toISOString(), expiresAt: expiresAt ? expiresAt.toISOString() : null, hash: sha256(secretPart) };
      writeTokens([...readTokens(), token]);
      return { secret: `tw_${id}_${secretPart}`, token: tokenOf(token) };
    },
    async listTokens() {
      return readTokens().map(tokenOf);
    },
    async getToken(id) {
      const found = readTokens().find((t) => t.id === id);
      return found ? tokenOf(found) : null;
    },
    async revokeToken(id) {
      const tokens = readTokens();
      const kept = tokens.filter((t) => t.id !== id);
      if (kept.length === tokens.length) return false;
      writeTokens(kept);
      return true;
    },
    async verifyToken(secret, now) {
      const match = TOKEN_PATTERN.exec(typeof secret === 'string' ? secret.trim() : '');
      if (!match) return { status: 'unknown' };
      const found = readTokens().find((t) => t.id === match[1]);
      if (!found) return { status: 'unknown' };
      const presented = Buffer.from(sha256(match[2] as string), 'hex');
      if (!timingSafeEqual(presented, Buffer.from(found.hash, 'hex'))) return { status: 'unknown' };
      const token = tokenOf(found);
      if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return { status: 'expired', token };
      return { status: 'ok', token };
    },
    async appendAudit(entry) {
      ensureDir();
      const size = sizeOf(auditFile);
      const previous = lastAudit && lastAudit.size === size ? lastAudit.id : (readAudit().at(-1)?.id ?? 0);
      const row: AuditEntry = { id: previous + 1, ...entry };
      try {
        // After a torn last line (a crash mid-append), start on a new line so this row stays readable.
        appendFileSync(auditFile, `${endsTorn(auditFile, size) ? '\n' : ''}${JSON.stringify(row)}\n`, { mode: 0o600 });
        syncFile(auditFile);
        lastAudit = { id: row.id, size: sizeOf(auditFile) };
      } catch (error) {
        throw new AccessStoreError(`cannot append to the audit log ${auditFile}: ${(error as Error).message}`, { cause: error });
      }
      return row;
    },
    async listAudit(query = {}) {
      const limit = query.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new AccessStoreError(`audit limit must be an integer 1 … 500, got ${String(limit)}`);
      const before = query.cursor ? Number(query.cursor) : Number.POSITIVE_INFINITY;
      if (Number.isNaN(before)) throw new AccessStoreError(`audit cursor ${JSON.stringify(query.cursor)} is not one this log issued`);
      const entries = readAudit()
        .filter((e) => e.id < before)
        .reverse()
        .slice(0, limit + 1);
      const page = entries.slice(0, limit);
      return { entries: page, nextCursor: entries.length > limit ? String(page.at(-1)?.id) : null };
    },
  };
}

interface StoredToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  expiresAt: string | null;
  hash: string;
}

function storedTokenOf(row: unknown, where: string): StoredToken {
  const r = row as Partial<StoredToken> | null;
  if (!r || typeof r.id !== 'string' || typeof r.hash !== 'string' || !/^[a-f0-9]{64}$/.test(r.hash) || !isRole(r.role) || typeof r.createdAt !== 'string') {
    throw new AccessStoreError(`${where} is not a token this version can read`);
  }
  return r as StoredToken;
}

function tokenOf(stored: StoredToken): TokenRecord {
  return {
    id: stored.id,
    name: stored.name,
    role: stored.role,
    createdAt: new Date(stored.createdAt),
    expiresAt: stored.expiresAt ? new Date(stored.expiresAt) : null,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function endsTorn(path: string, size: number): boolean {
  if (size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
