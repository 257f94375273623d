/**
 * The part of the Store contract a management UI needs so that several instances of it (and
 * the CLI) agree: an audit log of every change and hashed access tokens. They live in the
 * store beside the job state, so a dashboard replica, a daemon's dashboard port and
 * `tickwork dashboard token create` all see the same rows. The checks here are shared by every
 * store, so each refuses the same bad input with the same message before anything changes.
 */
import { InvalidArgumentError } from './errors.js';
import { show } from './show.js';

/** Who made an audited change (a dashboard token, the host's own user, the CLI). */
export interface AuditActor {
  id: string;
  name: string;
  /** The actor's role when it acted (`viewer`, `operator`, `admin` for the dashboard). */
  role: string;
  /** How it was identified: `token`, `host`, `cli`, … */
  via: string;
}

/** What an audited change touched: a job code, a schedule key, a token id (any of them). */
export interface AuditTarget {
  code?: string;
  key?: string;
  token?: string;
}

/** One audited change, as appended: who, what, when, before → after. */
export interface AuditInput {
  at: Date;
  actor: AuditActor;
  /** e.g. `job.pause`, `schedule.update`, `token.create` (1 … 100 characters). */
  action: string;
  target: AuditTarget;
  /** Any JSON value (null when there was nothing before). */
  before: unknown;
  /** Any JSON value (null when nothing is left). */
  after: unknown;
}

/** One audit row as stored. */
export interface AuditRecord extends AuditInput {
  /** Store-assigned, a positive integer as text, increasing in append order. */
  id: string;
}

/** Page of an audit-log query. Results are newest first (id desc). */
export interface AuditQuery {
  /** Page size, an integer 1 … 1000, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page; a malformed one is an `InvalidArgumentError`. */
  cursor?: string | null;
}

/** One page of the audit log. */
export interface AuditPage {
  entries: AuditRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** An access token as kept at rest: never its secret, only a hash of it the caller computed. */
export interface AccessTokenRecord {
  /** Public id, unique in the store (1 … 64 of `A-Z a-z 0-9 _ -`). */
  id: string;
  name: string;
  /** The role it grants (`viewer`, `operator`, `admin` for the dashboard). */
  role: string;
  /** A hash of the secret (e.g. hex SHA-256), 1 … 200 characters; the store only keeps it. */
  hash: string;
  createdAt: Date;
  /** Null: never expires. */
  expiresAt: Date | null;
}

/** Largest audit row, as JSON text: a schedule's before and after with 64 KiB payloads fit. */
export const MAX_AUDIT_ENTRY_BYTES = 512 * 1024;
/** Most access tokens one store keeps (they are listed whole). */
export const MAX_ACCESS_TOKENS = 1000;

const TOKEN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const AUDIT_ID = /^[1-9]\d{0,15}$/;

function text(value: unknown, max: number, at: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new InvalidArgumentError(`${at} must be a string of 1 … ${max} characters, got ${show(value)}`);
  }
  return value;
}

function validDate(value: unknown, at: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new InvalidArgumentError(`${at} must be a valid Date, got ${show(value)}`);
  return value;
}

/** A JSON value's canonical text; refuses what JSON cannot carry unchanged (undefined, functions, cycles, non-finite numbers). */
function jsonOf(value: unknown, at: string): unknown {
  let seen: unknown;
  try {
    seen = JSON.parse(
      JSON.stringify(value ?? null, (_k, v: unknown) => {
        if (typeof v === 'number' && !Number.isFinite(v))
          throw new InvalidArgumentError(`${at} holds the number ${v}, which JSON cannot carry`);
        if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol')
          throw new InvalidArgumentError(`${at} holds a ${typeof v}, which JSON cannot carry`);
        return v;
      }),
    );
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(`${at} must be a JSON value: ${(error as Error).message}`, { cause: error });
  }
  return seen;
}

/**
 * Checks an audit row to append and returns it normalised (only the contract's fields, before
 * and after as they read back from JSON) with its JSON text (without `at`), which stores keep.
 */
export function checkAuditInput(entry: unknown, where: string): { entry: AuditInput; json: string } {
  if (typeof entry !== 'object' || entry === null)
    throw new InvalidArgumentError(`${where}: expected an audit entry object, got ${show(entry)}`);
  const e = entry as Partial<AuditInput>;
  const at = validDate(e.at, `${where}: at`);
  if (typeof e.actor !== 'object' || e.actor === null)
    throw new InvalidArgumentError(`${where}: actor must be { id, name, role, via }, got ${show(e.actor)}`);
  const actor: AuditActor = {
    id: text(e.actor.id, 200, `${where}: actor.id`),
    name: text(e.actor.name, 200, `${where}: actor.name`),
    role: text(e.actor.role, 50, `${where}: actor.role`),
    via: text(e.actor.via, 50, `${where}: actor.via`),
  };
  const action = text(e.action, 100, `${where}: action`);
  if (typeof e.target !== 'object' || e.target === null || Array.isArray(e.target)) {
    throw new InvalidArgumentError(`${where}: target must be an object of code / key / token, got ${show(e.target)}`);
  }
  const target: AuditTarget = {};
  for (const [name, value] of Object.entries(e.target)) {
    if (name !== 'code' && name !== 'key' && name !== 'token')
      throw new InvalidArgumentError(`${where}: target.${name} is not a target field (code, key, token)`);
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > 1000)
      throw new InvalidArgumentError(`${where}: target.${name} must be a string of at most 1000 characters, got ${show(value)}`);
    target[name] = value;
  }
  const before = jsonOf(e.before, `${where}: before`);
  const after = jsonOf(e.after, `${where}: after`);
  const json = JSON.stringify({ actor, action, target, before, after });
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_AUDIT_ENTRY_BYTES)
    throw new InvalidArgumentError(`${where}: the entry is ${bytes} bytes as JSON; the limit is ${MAX_AUDIT_ENTRY_BYTES}`);
  return { entry: { at: new Date(at), actor, action, target, before, after }, json };
}

/** An audit row from its id, instant and the JSON text {@link checkAuditInput} returned. */
export function auditRecordOf(id: string | number, at: Date, json: string): AuditRecord {
  const body = JSON.parse(json) as Omit<AuditInput, 'at'>;
  return { id: String(id), at, actor: body.actor, action: body.action, target: body.target, before: body.before, after: body.after };
}

/** Checks an audit query: the page size and the id the page starts below (null: the newest). */
export function checkAuditQuery(query: unknown, where: string): { limit: number; before: number | null } {
  if (query !== undefined && (typeof query !== 'object' || query === null))
    throw new InvalidArgumentError(`${where}: expected a query object, got ${show(query)}`);
  const q = (query ?? {}) as AuditQuery;
  const limit = q.limit ?? 50;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InvalidArgumentError(`${where}: limit must be an integer 1 … 1000, got ${show(limit)}`);
  if (q.cursor === undefined || q.cursor === null) return { limit, before: null };
  if (typeof q.cursor !== 'string' || !AUDIT_ID.test(q.cursor))
    throw new InvalidArgumentError(`${where}: cursor ${show(q.cursor)} is not one this audit log issued`);
  return { limit, before: Number(q.cursor) };
}

/** The page of `rows` (newest first, one more than `limit` when there is a next page). */
export function auditPageOf(rows: readonly AuditRecord[], limit: number): AuditPage {
  const entries = rows.slice(0, limit);
  return { entries, nextCursor: rows.length > limit ? (entries.at(-1)?.id ?? null) : null };
}

/** Checks an access token to add and returns a copy of it with only the contract's fields. */
export function checkAccessToken(token: unknown, where: string): AccessTokenRecord {
  if (typeof token !== 'object' || token === null)
    throw new InvalidArgumentError(`${where}: expected an access token object, got ${show(token)}`);
  const t = token as Partial<AccessTokenRecord>;
  if (typeof t.id !== 'string' || !TOKEN_ID.test(t.id))
    throw new InvalidArgumentError(`${where}: id must be 1 … 64 of A-Z a-z 0-9 _ -, got ${show(t.id)}`);
  const expiresAt = t.expiresAt === null ? null : validDate(t.expiresAt, `${where}: expiresAt (or null)`);
  return {
    id: t.id,
    name: text(t.name, 200, `${where}: name`),
    role: text(t.role, 50, `${where}: role`),
    hash: text(t.hash, 200, `${where}: hash`),
    createdAt: new Date(validDate(t.createdAt, `${where}: createdAt`)),
    expiresAt: expiresAt ? new Date(expiresAt) : null,
  };
}

/** True when `id` could be an access token's id (lookups of anything else find nothing). */
export function isAccessTokenId(id: unknown): id is string {
  return typeof id === 'string' && TOKEN_ID.test(id);
}

/** The error a store throws for an access token id it already holds. */
export function duplicateTokenError(where: string, id: string): InvalidArgumentError {
  return new InvalidArgumentError(`${where}: an access token with id "${id}" exists already`);
}

/** The error a store throws when it holds {@link MAX_ACCESS_TOKENS} tokens already. */
export function tooManyTokensError(where: string): InvalidArgumentError {
  return new InvalidArgumentError(`${where}: the store holds ${MAX_ACCESS_TOKENS} access tokens, the most it keeps; remove some first`);
}
