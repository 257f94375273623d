/**
 * The SQL stores' argument checks: the contract's (core's `checkStoreArguments`, run first by
 * `check`) with this store's prefix, then only what the databases themselves cannot hold (no NUL
 * and no lone UTF-16 surrogate in stored text), this store's ids and its cursors.
 */
import { type RunStatus, type ScheduleRef, type SkipReason } from '@tickwork/core';
import {
  argumentChecksFor,
  type StoreArgumentChecks,
  type StoreArgumentFail,
  checkOverdueOptions,
  noRuntimeScheduleMessage,
  notACursorMessage,
  type CheckedOverdueOptions,
  type JobState,
  type RunQuery,
  type ScheduleQuery,
  checkPartitionLease,
  checkPartitionRelease,
  partitionListPlan,
  type CheckedPartitionLease,
} from '@tickwork/core/store';
import { PREFIX } from './errors.js';

const ID = /^[1-9]\d{0,17}$/;
// NUL, or half of a UTF-16 surrogate pair (with the u flag a whole pair is one code point, which this does not match).
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this refuses (neither database stores it in text)
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

/** `fail(message)`, `check(operation, ...args)` (run first by every method) and `checkUpsert(schedules, now)` with this store's prefix. */
const checks = argumentChecksFor(PREFIX);
export const fail: StoreArgumentFail = checks.fail;
export const check: StoreArgumentChecks['check'] = checks.check;
export const checkUpsert: StoreArgumentChecks['checkUpsert'] = checks.checkUpsert;

/** True when the database can hold `ref` as it is: no NUL and no lone UTF-16 surrogate in its code or key. */
function isStorableRef(ref: ScheduleRef): boolean {
  return !UNSTORABLE.test(ref.code) && !UNSTORABLE.test(ref.key);
}

/**
 * Refuses a ref (already checked by `check`) that a write would store but the database cannot
 * hold: PostgreSQL rejects NUL and lone surrogates (its failure would read as an outage) and
 * SQLite would not give them back as written.
 */
export function checkStorable(operation: string, ref: ScheduleRef, field = 'ref'): void {
  if (!isStorableRef(ref)) {
    fail(
      `${operation}: ${field} (job ${JSON.stringify(ref.code)}) must be well-formed Unicode text without NUL in code and key (a lone UTF-16 surrogate cannot be stored), got ${JSON.stringify(ref)}`,
    );
  }
}

/**
 * The refs (already checked by `check`) that are only looked up and can exist: a ref with NUL or
 * a lone surrogate can match no row (no write accepts one), so it is answered as missing, as the
 * memory store answers it, and never reaches the database, which would reject the text.
 */
export function lookupRefs(refs: readonly ScheduleRef[]): ScheduleRef[] {
  return refs.filter(isStorableRef);
}

/** Refuses free text this store keeps as an identifier (a runner id, a maintenance name) that the database cannot hold. */
export function checkStorableText(operation: string, field: string, value: string): void {
  if (UNSTORABLE.test(value)) fail(`${operation}: ${field} must be text without NUL or lone surrogates, got ${JSON.stringify(value)}`);
}

/** True when `id` can be a run/request id of this store (anything else simply matches nothing). */
export function isStoreId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/** The refs without repeats, first occurrence first. */
export function uniqueRefs(refs: readonly ScheduleRef[]): ScheduleRef[] {
  const seen = new Set<string>();
  return refs
    .filter((ref) => {
      const id = `${ref.code}\u0000${ref.key}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .map(({ code, key }) => ({ code, key }));
}

/** A schedule-list query made explicit: code filter, page size, the ref to continue after. */
export interface CheckedScheduleQuery {
  code: string | null;
  limit: number;
  after: ScheduleRef | null;
  /** With `partitions`: those still to read, ascending, and `after` bounds the first of them only (core's `partitionListPlan`). */
  partitions: number[] | null;
}

/** A {@link ScheduleQuery} (checked by `check`) with its cursor decoded. */
export function scheduleQueryOf(query: ScheduleQuery = {}): CheckedScheduleQuery {
  let after: ScheduleRef | null = null;
  if (query.cursor !== undefined) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(String(query.cursor), 'base64url').toString('utf8'));
      // No NUL or lone surrogate: the database must never see a value it would reject (that would read as an outage).
      if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((part) => typeof part === 'string' && !UNSTORABLE.test(part))) {
        after = { code: parsed[0], key: parsed[1] };
      }
    } catch {
      // reported below
    }
    if (!after) fail(notACursorMessage('listSchedules', query.cursor));
  }
  const limit = query.limit ?? 100;
  if (query.partitions === undefined) return { code: query.code ?? null, limit, after, partitions: null };
  const plan = partitionListPlan(query.partitions, after);
  return { code: query.code ?? null, limit, after: plan.after, partitions: plan.partitions };
}

/** The cursor that continues a schedule list after `ref`. */
export function scheduleCursorAfter(ref: ScheduleRef): string {
  return Buffer.from(JSON.stringify([ref.code, ref.key]), 'utf8').toString('base64url');
}

/** The refused `requestRun` of a runtime schedule that does not exist. */
export function noSuchSchedule(ref: ScheduleRef): never {
  fail(noRuntimeScheduleMessage(ref));
}

/** A run-log query made explicit: statuses, bounds, page size, decoded cursor. */
export interface CheckedQuery {
  code: string | null;
  key: string | null;
  statuses: RunStatus[] | null;
  reasons: SkipReason[] | null;
  since: Date | null;
  until: Date | null;
  limit: number;
  cursor: { startedAt: number; id: string } | null;
}

/** A run-log query (checked by `check`) made explicit, its cursor decoded. */
export function queryOf(query: RunQuery = {}): CheckedQuery {
  let cursor: CheckedQuery['cursor'] = null;
  if (query.cursor !== undefined) {
    const match = /^(-?\d+):(\d+)$/.exec(Buffer.from(String(query.cursor), 'base64url').toString('utf8'));
    const startedAt = Number(match?.[1]);
    const id = match?.[2];
    // Bounds too: the database must never see a value it would reject (that would read as an outage).
    if (!id || !Number.isSafeInteger(startedAt) || Number.isNaN(new Date(startedAt).getTime()) || !Number.isSafeInteger(Number(id))) {
      fail(notACursorMessage('queryRuns', query.cursor));
    }
    cursor = { startedAt, id };
  }
  const list = <T>(value: T | readonly T[] | undefined): T[] | null =>
    value === undefined ? null : Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
  return {
    code: query.code ?? null,
    key: query.key ?? null,
    statuses: list(query.status),
    reasons: list(query.reason),
    since: query.since ?? null,
    until: query.until ?? null,
    limit: query.limit ?? 50,
    cursor,
  };
}

/** The cursor that continues after `run`. */
export function cursorAfter(run: { startedAt: Date; id: string }): string {
  return Buffer.from(`${run.startedAt.getTime()}:${run.id}`, 'utf8').toString('base64url');
}

/** `claimOverdue`'s options, checked as every store checks them, defaults filled in. */
export function checkOverdue(options: unknown): CheckedOverdueOptions {
  return checkOverdueOptions(options, (message) => fail(`claimOverdue: ${message}`));
}

/** Overdue states in the order `claimOverdue` hands them out: oldest due first, then by code and key. */
export function byDue(states: JobState[]): JobState[] {
  const due = (s: JobState) => (s.lastSucceededAt ?? s.createdAt).getTime() + (s.expectSuccessWithinMs ?? 0);
  return states.sort(
    (a, b) => due(a) - due(b) || (a.code < b.code ? -1 : a.code > b.code ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

/** `leasePartitions`' request, checked as every store checks it. */
export function checkLeasePartitions(request: unknown): CheckedPartitionLease {
  return checkPartitionLease(request, (message) => fail(`leasePartitions: ${message}`));
}

/** `releasePartitions`' request, checked as every store checks it. */
export function checkReleasePartitions(request: unknown): { runnerId: string } {
  return checkPartitionRelease(request, (message) => fail(`releasePartitions: ${message}`));
}
