/**
 * The `Store` contract's argument checks, once for every store: each operation's arguments are
 * checked here before a store touches anything, so every store refuses the same input with the
 * same message (after its own prefix). A store adds only its backend's own limits.
 */
import type { StoreArguments, StoreOperation } from './decorate-store.js';
import { InvalidArgumentError } from './errors.js';
import { checkOverdueOptions } from './overdue-check.js';
import { checkPartitionLease, checkPartitionList, checkPartitionRelease } from './partitions.js';
import { passedSlotsProblem } from './passed-check.js';
import { MAX_SCHEDULES_PER_CALL, checkScheduleInputs, type RuntimeScheduleInput } from './runtime-schedule.js';
import { show } from './show.js';
import { checkAccessToken, checkAuditInput, checkAuditQuery } from './store-access.js';
import { completionStatusProblem, OVERLAP_POLICIES, RUN_STATUSES, SKIP_REASONS, type RunTrigger } from './store.js';

/** Throws the store's own `InvalidArgumentError`, its prefix before `message` (which starts with the operation). */
export type StoreArgumentFail = (message: string) => never;

/** The longest lease (and runner heartbeat TTL) a store takes: 365 days, in milliseconds. */
export const MAX_LEASE_MS = 365 * 86_400_000;

/** The largest `attempt` a claim may carry. */
export const MAX_ATTEMPT = 1_000_000;

/** The largest `limit` of `reapExpired` and `batchSize` of `pruneRuns` and `pruneAudit`. */
export const MAX_BATCH = 100_000;

/** The largest page (`limit`) of `queryRuns` and `listSchedules`. */
export const MAX_PAGE = 1000;

/**
 * The earliest instant a store takes: 1970-01-01T00:00:00.000Z. Redis orders its indexes by the
 * zero-padded epoch milliseconds, which cannot order a negative one, so no store takes them.
 */
export const EARLIEST_INSTANT = new Date(0);

const TRIGGERS: readonly RunTrigger[] = ['schedule', 'retry', 'manual', 'force'];

type Check = (args: readonly unknown[], fail: StoreArgumentFail) => void;
type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null;

function instant(value: unknown, at: string, fail: StoreArgumentFail): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(`${at} must be a valid Date, got ${show(value)}`);
  if (value.getTime() < 0) fail(`${at} must not be before ${EARLIEST_INSTANT.toISOString()}, got ${show(value)}`);
}

function integer(value: unknown, at: string, min: number, max: number, fail: StoreArgumentFail): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${at} must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '2^53 - 1' : max}, got ${show(value)}`);
  }
}

function optionalInteger(value: unknown, at: string, min: number, max: number, fail: StoreArgumentFail): void {
  if (value !== undefined) integer(value, at, min, max, fail);
}

function optionalText(value: unknown, at: string, fail: StoreArgumentFail): void {
  if (value !== undefined && value !== null && typeof value !== 'string') fail(`${at} must be a string or null, got ${show(value)}`);
}

function object(value: unknown, at: string, shape: string, fail: StoreArgumentFail): asserts value is Fields {
  if (!isObject(value)) fail(`${at} must be ${shape}, got ${show(value)}`);
}

function list(value: unknown, at: string, fail: StoreArgumentFail, max = Number.POSITIVE_INFINITY): asserts value is unknown[] {
  if (!Array.isArray(value)) fail(`${at} must be a list, got ${show(value)}`);
  if (value.length > max) fail(`${at} holds ${value.length} items; the limit is ${max} in one call`);
}

function ref(value: unknown, at: string, fail: StoreArgumentFail): asserts value is { code: string; key: string } {
  object(value, at, '{ code, key }', fail);
  const { code, key } = value;
  if (typeof code !== 'string' || code.length === 0) fail(`${at}.code must be a non-empty string, got ${show(code)}`);
  if (typeof key !== 'string') fail(`${at}.key (job "${code}") must be a string ('' for the job's own schedule), got ${show(key)}`);
}

function refs(value: unknown, at: string, fail: StoreArgumentFail, max?: number): void {
  list(value, at, fail, max);
  value.forEach((item, i) => {
    ref(item, `${at}[${i}]`, fail);
  });
}

/** Refs of runtime schedules: at most {@link MAX_SCHEDULES_PER_CALL}, none with key '' (a job's own schedule). */
function runtimeRefs(value: unknown, at: string, fail: StoreArgumentFail): void {
  refs(value, at, fail, MAX_SCHEDULES_PER_CALL);
  (value as { code: string; key: string }[]).forEach((item, i) => {
    if (item.key === '') fail(`${at}[${i}].key (job "${item.code}") is '', the job's own schedule, not a runtime one`);
  });
}

function codes(value: unknown, at: string, fail: StoreArgumentFail): void {
  if (value !== undefined && (!Array.isArray(value) || value.some((code) => typeof code !== 'string' || code.length === 0))) {
    fail(`${at} must be a list of non-empty strings, got ${show(value)}`);
  }
}

function oneOrMore(value: unknown, at: string, allowed: readonly string[], fail: StoreArgumentFail): void {
  if (value === undefined) return;
  for (const item of Array.isArray(value) ? value : [value]) {
    if (!allowed.includes(item as string)) fail(`${at} must be one of ${allowed.join(', ')}, got ${show(item)}`);
  }
}

function nonEmptyText(value: unknown, at: string, fail: StoreArgumentFail): void {
  if (typeof value !== 'string' || value.length === 0) fail(`${at} must be a non-empty string, got ${show(value)}`);
}

function optionalCursor(value: unknown, at: string, fail: StoreArgumentFail): void {
  if (value !== undefined && typeof value !== 'string') fail(`${at} must be a string a previous page returned, got ${show(value)}`);
}

function lease(value: unknown, at: string, fail: StoreArgumentFail): void {
  ref(value, at, fail);
  const { code, runId, token } = value as Fields;
  if (typeof runId !== 'string') fail(`${at}.runId (job "${code}") must be a string, got ${show(runId)}`);
  if (typeof token !== 'number' || !Number.isSafeInteger(token)) fail(`${at}.token (job "${code}") must be an integer, got ${show(token)}`);
}

function claim(value: unknown, at: string, fail: StoreArgumentFail): void {
  ref(value, at, fail);
  const c = value as Fields;
  const of = `(job "${c.code}")`;
  instant(c.slotAt, `${at}.slotAt ${of}`, fail);
  integer(c.attempt, `${at}.attempt ${of}`, 1, MAX_ATTEMPT, fail);
  integer(c.leaseMs, `${at}.leaseMs ${of}`, 1, MAX_LEASE_MS, fail);
  if (!TRIGGERS.includes(c.trigger as RunTrigger))
    fail(`${at}.trigger ${of} must be one of ${TRIGGERS.join(', ')}, got ${show(c.trigger)}`);
  if (!OVERLAP_POLICIES.includes(c.overlap as never))
    fail(`${at}.overlap ${of} must be one of ${OVERLAP_POLICIES.join(', ')}, got ${show(c.overlap)}`);
  if (c.backfill !== undefined && typeof c.backfill !== 'boolean') fail(`${at}.backfill ${of} must be a boolean, got ${show(c.backfill)}`);
  if (c.requestId !== undefined) nonEmptyText(c.requestId, `${at}.requestId ${of}`, fail);
  if ((c.trigger === 'manual') !== (c.requestId !== undefined)) {
    fail(`${at}.requestId ${of} goes with trigger 'manual', and trigger 'manual' with a requestId`);
  }
  if (c.requestId !== undefined && c.attempt !== 1) fail(`${at}.attempt ${of} must be 1 with a requestId, got ${show(c.attempt)}`);
  optionalInteger(c.scheduleVersion, `${at}.scheduleVersion ${of}`, 1, Number.MAX_SAFE_INTEGER, fail);
  optionalInteger(c.maxRuns, `${at}.maxRuns ${of}`, 1, Number.MAX_SAFE_INTEGER, fail);
  if (c.passed !== undefined) {
    const problem = passedSlotsProblem(c.passed, c.slotAt as Date);
    if (problem) fail(`${at}.passed${problem.field} ${of}: ${problem.message}`);
  }
}

function completion(value: unknown, at: string, fail: StoreArgumentFail): void {
  object(value, at, 'a RunCompletion', fail);
  lease(value.lease, `${at}.lease`, fail);
  const of = `(job "${(value.lease as Fields).code}")`;
  const problem = completionStatusProblem(value as { status: unknown });
  if (problem) fail(`${at} ${of}: ${problem}`);
  instant(value.finishedAt, `${at}.finishedAt ${of}`, fail);
  for (const field of ['message', 'error', 'stack'] as const) optionalText(value[field], `${at}.${field} ${of}`, fail);
}

/**
 * `upsertSchedules`' checks (`now`, then the inputs as `checkScheduleInputs` checks them),
 * returning what that returns: the inputs and each one's canonical definition text.
 */
export function checkUpsertArguments(
  schedules: unknown,
  now: unknown,
  fail: StoreArgumentFail,
): { inputs: readonly RuntimeScheduleInput[]; definitions: string[] } {
  instant(now, 'upsertSchedules: now', fail);
  let checked: { inputs: readonly RuntimeScheduleInput[]; definitions: string[] } | undefined;
  through(() => {
    checked = checkScheduleInputs(schedules, 'upsertSchedules');
  }, fail);
  return checked as { inputs: readonly RuntimeScheduleInput[]; definitions: string[] };
}

/** A shared check that throws `InvalidArgumentError` itself (with `where` first), its message handed to `fail` instead. */
function through(run: () => unknown, fail: StoreArgumentFail): void {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidArgumentError) fail(error.message);
    throw error;
  }
}

/**
 * Every operation's checks. Typed against {@link StoreOperation}: an operation added to the
 * contract without its checks here is a compile error.
 */
const CHECKS: { readonly [K in StoreOperation]-?: Check } = {
  ping: () => {},
  ensureStates([list, now], fail) {
    refs(list, 'ensureStates: refs', fail);
    instant(now, 'ensureStates: now', fail);
  },
  getStates([list], fail) {
    if (list !== undefined) refs(list, 'getStates: refs', fail);
  },
  setPaused([target, paused, options], fail) {
    ref(target, 'setPaused: ref', fail);
    if (typeof paused !== 'boolean') fail(`setPaused: paused must be a boolean, got ${show(paused)}`);
    object(options, 'setPaused: options', '{ now, note? }', fail);
    optionalText(options.note, 'setPaused: options.note', fail);
    instant(options.now, 'setPaused: options.now', fail);
  },
  setScheduleOverride([target, schedule, now], fail) {
    ref(target, 'setScheduleOverride: ref', fail);
    if (schedule !== null && (!isObject(schedule) || typeof schedule.kind !== 'string')) {
      fail(`setScheduleOverride: schedule (job "${target.code}") must be a ScheduleSpec or null, got ${show(schedule)}`);
    }
    instant(now, 'setScheduleOverride: now', fail);
  },
  claimSlots([claims, context], fail) {
    list(claims, 'claimSlots: claims', fail);
    object(context, 'claimSlots: context', '{ runnerId, now }', fail);
    nonEmptyText(context.runnerId, 'claimSlots: context.runnerId', fail);
    instant(context.now, 'claimSlots: context.now', fail);
    claims.forEach((item, i) => {
      claim(item, `claimSlots: claims[${i}]`, fail);
    });
  },
  renewLeases([leases, options], fail) {
    list(leases, 'renewLeases: leases', fail);
    leases.forEach((item, i) => {
      lease(item, `renewLeases: leases[${i}]`, fail);
    });
    object(options, 'renewLeases: options', '{ now, leaseMs }', fail);
    instant(options.now, 'renewLeases: options.now', fail);
    integer(options.leaseMs, 'renewLeases: options.leaseMs', 1, MAX_LEASE_MS, fail);
  },
  completeRuns([completions], fail) {
    list(completions, 'completeRuns: completions', fail);
    completions.forEach((item, i) => {
      completion(item, `completeRuns: completions[${i}]`, fail);
    });
  },
  reapExpired([options], fail) {
    object(options, 'reapExpired: options', '{ now, limit?, runners? }', fail);
    instant(options.now, 'reapExpired: options.now', fail);
    optionalInteger(options.limit, 'reapExpired: options.limit', 1, MAX_BATCH, fail);
    if (options.runners !== undefined && typeof options.runners !== 'boolean') {
      fail(`reapExpired: options.runners must be a boolean, got ${show(options.runners)}`);
    }
  },
  claimOverdue([options], fail) {
    checkOverdueOptions(options, (message) => fail(`claimOverdue: ${message}`));
  },
  heartbeat([beat], fail) {
    object(beat, 'heartbeat: beat', 'a RunnerHeartbeat', fail);
    nonEmptyText(beat.runnerId, 'heartbeat: beat.runnerId', fail);
    const of = `(runner "${beat.runnerId}")`;
    instant(beat.now, `heartbeat: beat.now ${of}`, fail);
    instant(beat.startedAt, `heartbeat: beat.startedAt ${of}`, fail);
    integer(beat.ttlMs, `heartbeat: beat.ttlMs ${of}`, 1, MAX_LEASE_MS, fail);
    const offset = beat.clockOffsetMs;
    if (offset !== null && (typeof offset !== 'number' || !Number.isFinite(offset))) {
      fail(`heartbeat: beat.clockOffsetMs ${of} must be a finite number or null, got ${show(offset)}`);
    }
  },
  listRunners([options], fail) {
    object(options, 'listRunners: options', '{ now }', fail);
    instant(options.now, 'listRunners: options.now', fail);
  },
  queryRuns([query], fail) {
    if (query === undefined) return;
    object(query, 'queryRuns: query', 'a RunQuery', fail);
    if (query.code !== undefined) nonEmptyText(query.code, 'queryRuns: query.code', fail);
    if (query.key !== undefined && typeof query.key !== 'string') fail(`queryRuns: query.key must be a string, got ${show(query.key)}`);
    oneOrMore(query.status, 'queryRuns: query.status', RUN_STATUSES, fail);
    oneOrMore(query.reason, 'queryRuns: query.reason', SKIP_REASONS, fail);
    if (query.since !== undefined) instant(query.since, 'queryRuns: query.since', fail);
    if (query.until !== undefined) instant(query.until, 'queryRuns: query.until', fail);
    optionalInteger(query.limit, 'queryRuns: query.limit', 1, MAX_PAGE, fail);
    optionalCursor(query.cursor, 'queryRuns: query.cursor', fail);
  },
  getRun([id], fail) {
    if (typeof id !== 'string') fail(`getRun: id must be a string, got ${show(id)}`);
  },
  pruneRuns([options], fail) {
    object(options, 'pruneRuns: options', '{ olderThan, batchSize? }', fail);
    instant(options.olderThan, 'pruneRuns: options.olderThan', fail);
    optionalInteger(options.batchSize, 'pruneRuns: options.batchSize', 1, MAX_BATCH, fail);
  },
  claimMaintenance([name, options], fail) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 100) {
      fail(`claimMaintenance: name must be a string of 1 to 100 characters, got ${show(name)}`);
    }
    object(options, 'claimMaintenance: options', '{ now, everyMs }', fail);
    instant(options.now, 'claimMaintenance: options.now', fail);
    integer(options.everyMs, 'claimMaintenance: options.everyMs', 1000, Number.MAX_SAFE_INTEGER, fail);
  },
  requestRun([target, options], fail) {
    ref(target, 'requestRun: ref', fail);
    object(options, 'requestRun: options', '{ now, requestedBy? }', fail);
    instant(options.now, 'requestRun: options.now', fail);
    optionalText(options.requestedBy, 'requestRun: options.requestedBy', fail);
  },
  pendingRunRequests([options], fail) {
    if (options === undefined) return;
    object(options, 'pendingRunRequests: options', '{ codes?, refs?, limit? }', fail);
    codes(options.codes, 'pendingRunRequests: options.codes', fail);
    if (options.refs !== undefined) refs(options.refs, 'pendingRunRequests: options.refs', fail, MAX_SCHEDULES_PER_CALL);
    optionalInteger(options.limit, 'pendingRunRequests: options.limit', 1, Number.MAX_SAFE_INTEGER, fail);
  },
  upsertSchedules([schedules, now], fail) {
    checkUpsertArguments(schedules, now, fail);
  },
  removeSchedules([list], fail) {
    runtimeRefs(list, 'removeSchedules: refs', fail);
  },
  getSchedules([list], fail) {
    runtimeRefs(list, 'getSchedules: refs', fail);
  },
  listSchedules([query], fail) {
    if (query === undefined) return;
    object(query, 'listSchedules: query', 'a ScheduleQuery', fail);
    if (query.code !== undefined) nonEmptyText(query.code, 'listSchedules: query.code', fail);
    optionalInteger(query.limit, 'listSchedules: query.limit', 1, MAX_PAGE, fail);
    optionalCursor(query.cursor, 'listSchedules: query.cursor', fail);
    if (query.partitions !== undefined) checkPartitionList(query.partitions, 'listSchedules: query.partitions', fail);
  },
  schedulesRevision: () => {},
  appendAudit([entry], fail) {
    through(() => checkAuditInput(entry, 'appendAudit'), fail);
  },
  listAudit([query], fail) {
    through(() => checkAuditQuery(query, 'listAudit'), fail);
  },
  pruneAudit([options], fail) {
    object(options, 'pruneAudit: options', '{ olderThan, batchSize? }', fail);
    instant(options.olderThan, 'pruneAudit: options.olderThan', fail);
    optionalInteger(options.batchSize, 'pruneAudit: options.batchSize', 1, MAX_BATCH, fail);
  },
  addAccessToken([token], fail) {
    through(() => checkAccessToken(token, 'addAccessToken'), fail);
  },
  // A lookup by anything but a token id finds nothing (see isAccessTokenId).
  getAccessToken: () => {},
  listAccessTokens: () => {},
  removeAccessToken: () => {},
  leasePartitions([request], fail) {
    checkPartitionLease(request, (message) => fail(`leasePartitions: ${message}`));
  },
  releasePartitions([request], fail) {
    checkPartitionRelease(request, (message) => fail(`releasePartitions: ${message}`));
  },
  subscribe([listener], fail) {
    if (typeof listener !== 'function') fail(`subscribe: listener must be a function, got ${show(listener)}`);
  },
};

/**
 * Checks the arguments of one `Store` operation as the contract states them, before the store
 * touches anything: `fail` throws the store's own `InvalidArgumentError` with its prefix before
 * the message, which names the operation, the field and, where there is one, the job.
 * `upsertSchedules`, `claimOverdue`, `leasePartitions`, `releasePartitions`, `appendAudit`,
 * `listAudit` and `addAccessToken` run the same checks as `checkUpsertArguments`,
 * `checkOverdueOptions`, `checkPartitionLease`, `checkPartitionRelease`, `checkAuditInput`,
 * `checkAuditQuery` and `checkAccessToken`, whose normalised results a store keeps: a store calls
 * those directly instead (the last three with its prefix and the operation as `where`).
 */
export function checkStoreArguments<K extends StoreOperation>(operation: K, args: StoreArguments<K>, fail: StoreArgumentFail): void {
  CHECKS[operation](args as readonly unknown[], fail);
}

/** The message for a cursor a store cannot decode (a store's own format): `fail` it. */
export function notACursorMessage(operation: 'queryRuns' | 'listSchedules', cursor: unknown): string {
  return `${operation}: query.cursor ${show(cursor)} is not a cursor a previous page of this store returned`;
}

/** The message for `requestRun` of a runtime schedule that does not exist: `fail` it. */
export function noRuntimeScheduleMessage(target: { code: string; key: string }): string {
  return `requestRun: ref (job "${target.code}") names key "${target.key}", but the job has no runtime schedule with that key`;
}

/** A store's argument checks bound to its prefix (see {@link argumentChecksFor}). */
export interface StoreArgumentChecks {
  /** Throws the store's InvalidArgumentError: the prefix, then `message` (which starts with the operation). */
  fail: StoreArgumentFail;
  /** Checks one operation's arguments as every store checks them (`checkStoreArguments`). */
  check<K extends StoreOperation>(operation: K, ...args: StoreArguments<K>): void;
  /** `upsertSchedules`' arguments checked (`checkUpsertArguments`): the inputs and their definition texts. */
  checkUpsert(schedules: unknown, now: unknown): { inputs: readonly RuntimeScheduleInput[]; definitions: string[] };
}

/** The contract's argument checks as a store with this message prefix (`[tickwork] [store-x]`) runs them. */
export function argumentChecksFor(prefix: string): StoreArgumentChecks {
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`${prefix} ${message}`);
  };
  return {
    fail,
    check: (operation, ...args) => checkStoreArguments(operation, args, fail),
    checkUpsert: (schedules, now) => checkUpsertArguments(schedules, now, fail),
  };
}
