/**
 * Checks every argument before a statement is sent: bad input fails with
 * InvalidArgumentError naming the field, and changes nothing.
 */
import { InvalidArgumentError, type RunStatus, type ScheduleRef, type SkipReason } from '@tickwork/core';
import {
  completionStatusProblem,
  MAX_SCHEDULES_PER_CALL,
  OVERLAP_POLICIES,
  passedSlotsProblem,
  RUN_STATUSES,
  SKIP_REASONS,
  checkOverdueOptions,
  checkPartitionLease,
  checkPartitionRelease,
  type CheckedOverdueOptions,
  type CheckedPartitionLease,
  type JobState,
  type Lease,
  type RunCompletion,
  type RunQuery,
  type ScheduleQuery,
  type RunnerHeartbeat,
  type SlotClaim,
} from '@tickwork/core/store';
import { PREFIX } from './errors.js';

const TRIGGERS = new Set(['schedule', 'retry', 'manual', 'force']);
const ID = /^[1-9]\d{0,17}$/;
// NUL, or half of a UTF-16 surrogate pair (with the u flag a whole pair is one code point, which this does not match).
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this refuses (neither database stores it in text)
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

function bad(operation: string, field: string, problem: string): never {
  throw new InvalidArgumentError(`${PREFIX} ${operation}: ${field} ${problem}`);
}

/** A valid instant, or throws. */
export function checkDate(operation: string, field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) bad(operation, field, `must be a valid Date, got ${String(value)}`);
  return value;
}

function checkRefShape(operation: string, ref: ScheduleRef, field: string): void {
  if (typeof ref !== 'object' || ref === null) bad(operation, field, 'must be { code, key }');
  if (typeof ref.code !== 'string' || ref.code === '')
    bad(operation, `${field}.code`, `must be a non-empty string, got ${JSON.stringify(ref.code)}`);
  if (typeof ref.key !== 'string')
    bad(
      operation,
      `${field}.key (job "${ref.code}")`,
      `must be a string ('' for the code-defined schedule), got ${JSON.stringify(ref.key)}`,
    );
}

/** True when the database can hold `ref` as it is: no NUL and no lone UTF-16 surrogate in its code or key. */
function isStorableRef(ref: ScheduleRef): boolean {
  return !UNSTORABLE.test(ref.code) && !UNSTORABLE.test(ref.key);
}

/**
 * A valid schedule reference for a write (it may be stored), or throws. A code or key with NUL or a
 * lone surrogate is refused here: PostgreSQL cannot hold it (its failure would read as an outage)
 * and SQLite would not give it back as written.
 */
export function checkRef(operation: string, ref: ScheduleRef, field = 'ref'): void {
  checkRefShape(operation, ref, field);
  if (!isStorableRef(ref)) {
    bad(
      operation,
      `${field} (job ${JSON.stringify(ref.code)})`,
      `must be well-formed Unicode text without NUL in code and key (a lone UTF-16 surrogate cannot be stored), got ${JSON.stringify(ref)}`,
    );
  }
}

/**
 * Checks refs that are only looked up (read, or removed if they exist) and returns those that can
 * exist. A ref with NUL or a lone surrogate can match no row (no write accepts one, and no runtime
 * schedule key may hold one), so it is answered as missing, as the memory store answers it, and
 * never reaches the database, which would reject the text.
 */
export function checkLookupRefs(operation: string, refs: readonly ScheduleRef[]): ScheduleRef[] {
  refs.forEach((ref, i) => {
    checkRefShape(operation, ref, `refs[${i}]`);
  });
  return refs.filter(isStorableRef);
}

function positiveInt(operation: string, field: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    bad(operation, field, `must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks a batch of claims. */
export function checkClaims(claims: readonly SlotClaim[]): void {
  if (!Array.isArray(claims)) bad('claimSlots', 'claims', 'must be an array');
  claims.forEach((claim, i) => {
    const at = `claims[${i}]`;
    checkRef('claimSlots', claim, at);
    checkDate('claimSlots', `${at}.slotAt (job "${claim.code}")`, claim.slotAt);
    positiveInt('claimSlots', `${at}.attempt (job "${claim.code}")`, claim.attempt, 1_000_000);
    positiveInt('claimSlots', `${at}.leaseMs (job "${claim.code}")`, claim.leaseMs);
    if (!TRIGGERS.has(claim.trigger))
      bad(
        'claimSlots',
        `${at}.trigger (job "${claim.code}")`,
        `must be schedule, retry, manual or force, got ${JSON.stringify(claim.trigger)}`,
      );
    if (!OVERLAP_POLICIES.includes(claim.overlap)) {
      bad(
        'claimSlots',
        `${at}.overlap (job "${claim.code}")`,
        `must be one of ${OVERLAP_POLICIES.join(', ')}, got ${JSON.stringify(claim.overlap)}`,
      );
    }
    if (claim.backfill !== undefined && typeof claim.backfill !== 'boolean')
      bad('claimSlots', `${at}.backfill (job "${claim.code}")`, 'must be a boolean');
    if (claim.requestId !== undefined && (typeof claim.requestId !== 'string' || claim.requestId === '')) {
      bad('claimSlots', `${at}.requestId (job "${claim.code}")`, `must be a non-empty string, got ${JSON.stringify(claim.requestId)}`);
    }
    if ((claim.trigger === 'manual') !== (claim.requestId !== undefined)) {
      bad('claimSlots', `${at}.requestId (job "${claim.code}")`, "goes with trigger 'manual', and trigger 'manual' with a requestId");
    }
    if (claim.requestId !== undefined && claim.attempt !== 1)
      bad('claimSlots', `${at}.attempt (job "${claim.code}")`, `must be 1 with a requestId, got ${claim.attempt}`);
    if (claim.scheduleVersion !== undefined)
      positiveInt('claimSlots', `${at}.scheduleVersion (job "${claim.code}")`, claim.scheduleVersion);
    if (claim.maxRuns !== undefined) positiveInt('claimSlots', `${at}.maxRuns (job "${claim.code}")`, claim.maxRuns);
    if (claim.passed !== undefined) {
      const problem = passedSlotsProblem(claim.passed, claim.slotAt);
      if (problem) bad('claimSlots', `${at}.passed${problem.field} (job "${claim.code}")`, problem.message);
    }
  });
}

/** Checks a batch of leases (renewals). */
export function checkLeases(operation: string, leases: readonly Lease[], field = 'leases'): void {
  if (!Array.isArray(leases)) bad(operation, field, 'must be an array');
  leases.forEach((lease, i) => {
    checkRef(operation, lease, `${field}[${i}]`);
    if (typeof lease.runId !== 'string') bad(operation, `${field}[${i}].runId`, 'must be a string');
    if (typeof lease.token !== 'number' || !Number.isInteger(lease.token)) bad(operation, `${field}[${i}].token`, 'must be an integer');
  });
}

/** Checks a batch of completions. */
export function checkCompletions(completions: readonly RunCompletion[]): void {
  if (!Array.isArray(completions)) bad('completeRuns', 'completions', 'must be an array');
  checkLeases(
    'completeRuns',
    completions.map((c) => c.lease),
    'completions[].lease',
  );
  completions.forEach((c, i) => {
    const problem = completionStatusProblem(c);
    if (problem) bad('completeRuns', `completions[${i}] (job "${c.lease.code}")`, problem);
    checkDate('completeRuns', `completions[${i}].finishedAt`, c.finishedAt);
  });
}

/** True when `id` can be a run/request id of this store (anything else simply matches nothing). */
export function isStoreId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/** A checked optional limit (or other positive integer option named `field`). */
export function checkLimit(operation: string, value: number | undefined, fallback: number, max: number, field = 'limit'): number {
  return value === undefined ? fallback : positiveInt(operation, field, value, max);
}

/** A checked claim context. */
export function checkContext(context: { runnerId: string; now: Date }): void {
  if (typeof context !== 'object' || context === null) bad('claimSlots', 'context', 'must be { runnerId, now }');
  if (typeof context.runnerId !== 'string' || context.runnerId === '')
    bad('claimSlots', 'context.runnerId', `must be a non-empty string, got ${JSON.stringify(context.runnerId)}`);
  checkDate('claimSlots', 'context.now', context.now);
}

/** A checked optional code filter. */
export function checkCodes(operation: string, codes: readonly string[] | undefined): string[] | null {
  if (codes === undefined) return null;
  if (!Array.isArray(codes) || codes.some((c) => typeof c !== 'string')) bad(operation, 'codes', 'must be an array of job codes');
  return [...codes];
}

/**
 * Checked refs for a filter or batch of at most {@link MAX_SCHEDULES_PER_CALL}; with `runtime`, key '' (a job's own
 * schedule) is refused. Returns the refs that can exist (see {@link checkLookupRefs}): look up only those.
 */
export function checkRefs(operation: string, refs: readonly ScheduleRef[], runtime: boolean): ScheduleRef[] {
  if (!Array.isArray(refs)) bad(operation, 'refs', 'must be an array of { code, key }');
  if (refs.length > MAX_SCHEDULES_PER_CALL)
    bad(operation, 'refs', `has ${refs.length} refs; the limit is ${MAX_SCHEDULES_PER_CALL} in one call`);
  const storable = checkLookupRefs(operation, refs);
  refs.forEach((ref, i) => {
    if (runtime && ref.key === '') bad(operation, `refs[${i}].key (job "${ref.code}")`, `is '', the job's own schedule, not a runtime one`);
  });
  return storable;
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
}

/** Checks and normalises a {@link ScheduleQuery}. */
export function checkScheduleQuery(query: ScheduleQuery = {}): CheckedScheduleQuery {
  const op = 'listSchedules';
  if (typeof query !== 'object' || query === null) bad(op, 'query', 'must be an object');
  if (query.code !== undefined && (typeof query.code !== 'string' || query.code === ''))
    bad(op, 'code', `must be a non-empty string, got ${JSON.stringify(query.code)}`);
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
    if (!after) bad(op, 'cursor', `is not a cursor this store returned: ${JSON.stringify(query.cursor)}`);
  }
  return { code: query.code ?? null, limit: checkLimit(op, query.limit, 100, 1000), after };
}

/** The cursor that continues a schedule list after `ref`. */
export function scheduleCursorAfter(ref: ScheduleRef): string {
  return Buffer.from(JSON.stringify([ref.code, ref.key]), 'utf8').toString('base64url');
}

/** The refused `requestRun` of a runtime schedule that does not exist. */
export function noSuchSchedule(ref: ScheduleRef): never {
  bad('requestRun', `ref (job "${ref.code}")`, `names key "${ref.key}", but the job has no runtime schedule with that key`);
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

/** Checks and normalises a run-log query. */
export function checkQuery(query: RunQuery = {}): CheckedQuery {
  const op = 'queryRuns';
  if (query.code !== undefined && typeof query.code !== 'string') bad(op, 'code', 'must be a string');
  if (query.key !== undefined && typeof query.key !== 'string') bad(op, 'key', 'must be a string');
  let statuses: RunStatus[] | null = null;
  if (query.status !== undefined) {
    statuses = typeof query.status === 'string' ? [query.status] : [...query.status];
    for (const s of statuses)
      if (!RUN_STATUSES.includes(s)) bad(op, 'status', `must be one of ${RUN_STATUSES.join(', ')}, got ${JSON.stringify(s)}`);
  }
  let reasons: SkipReason[] | null = null;
  if (query.reason !== undefined) {
    reasons = typeof query.reason === 'string' ? [query.reason] : [...query.reason];
    for (const r of reasons)
      if (!SKIP_REASONS.includes(r)) bad(op, 'reason', `must be one of ${SKIP_REASONS.join(', ')}, got ${JSON.stringify(r)}`);
  }
  let cursor: CheckedQuery['cursor'] = null;
  if (query.cursor !== undefined) {
    const match = /^(-?\d+):(\d+)$/.exec(Buffer.from(String(query.cursor), 'base64url').toString('utf8'));
    const startedAt = Number(match?.[1]);
    const id = match?.[2];
    // Bounds too: the database must never see a value it would reject (that would read as an outage).
    if (!id || !Number.isSafeInteger(startedAt) || Number.isNaN(new Date(startedAt).getTime()) || !Number.isSafeInteger(Number(id))) {
      bad(op, 'cursor', `is not a cursor this store returned: ${JSON.stringify(query.cursor)}`);
    }
    cursor = { startedAt, id };
  }
  return {
    code: query.code ?? null,
    key: query.key ?? null,
    statuses,
    reasons,
    since: query.since === undefined ? null : checkDate(op, 'since', query.since),
    until: query.until === undefined ? null : checkDate(op, 'until', query.until),
    limit: checkLimit(op, query.limit, 50, 1000),
    cursor,
  };
}

/** The cursor that continues after `run`. */
export function cursorAfter(run: { startedAt: Date; id: string }): string {
  return Buffer.from(`${run.startedAt.getTime()}:${run.id}`, 'utf8').toString('base64url');
}

/** A runner heartbeat: non-empty storable id, valid dates, a positive integer TTL, a finite offset or null. */
export function checkHeartbeat(beat: RunnerHeartbeat): RunnerHeartbeat {
  if (beat === null || typeof beat !== 'object') bad('heartbeat', 'heartbeat', `must be a RunnerHeartbeat, got ${String(beat)}`);
  if (typeof beat.runnerId !== 'string' || beat.runnerId.length === 0 || UNSTORABLE.test(beat.runnerId)) {
    bad('heartbeat', 'runnerId', `must be a non-empty string without NUL or lone surrogates, got ${JSON.stringify(beat.runnerId)}`);
  }
  checkDate('heartbeat', 'now', beat.now);
  checkDate('heartbeat', 'startedAt', beat.startedAt);
  if (typeof beat.ttlMs !== 'number' || !Number.isInteger(beat.ttlMs) || beat.ttlMs < 1 || beat.ttlMs > 365 * 86_400_000) {
    bad('heartbeat', `ttlMs of runner "${beat.runnerId}"`, `must be a positive integer of milliseconds, got ${String(beat.ttlMs)}`);
  }
  const offset = beat.clockOffsetMs;
  if (offset !== null && (typeof offset !== 'number' || !Number.isFinite(offset))) {
    bad('heartbeat', `clockOffsetMs of runner "${beat.runnerId}"`, `must be a finite number or null, got ${String(offset)}`);
  }
  return beat;
}

/** A checked `claimMaintenance` call: the name (1–100 characters, storable) and the period (an integer ≥ 1000 ms). */
export function checkMaintenance(name: string, options: { now: Date; everyMs: number }): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 100 || UNSTORABLE.test(name)) {
    bad('claimMaintenance', 'name', `must be a string of 1 to 100 characters, got ${JSON.stringify(name)}`);
  }
  if (typeof options !== 'object' || options === null) bad('claimMaintenance', 'options', 'must be { now, everyMs }');
  checkDate('claimMaintenance', 'now', options.now);
  const every = options.everyMs;
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1000)
    bad('claimMaintenance', 'everyMs', `must be an integer of at least 1000, got ${String(every)}`);
}

/** `claimOverdue`'s options, checked as every store checks them (core's rules), with this store's prefix. */
export function checkOverdue(options: unknown): CheckedOverdueOptions {
  return checkOverdueOptions(options, (message) => {
    throw new InvalidArgumentError(`${PREFIX} claimOverdue: ${message}`);
  });
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
  return checkPartitionLease(request, (message) => {
    throw new InvalidArgumentError(`${PREFIX} leasePartitions: ${message}`);
  });
}

/** `releasePartitions`' request, checked as every store checks it. */
export function checkReleasePartitions(request: unknown): { runnerId: string } {
  return checkPartitionRelease(request, (message) => {
    throw new InvalidArgumentError(`${PREFIX} releasePartitions: ${message}`);
  });
}
