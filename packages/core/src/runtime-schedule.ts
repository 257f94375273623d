/**
 * Runtime schedules (django-celery-beat's PeriodicTask rows, BullMQ's job schedulers): a
 * job defined in code receives any number of schedules stored in the store, each with its
 * own key, schedule, timezone, JSON payload, enabled flag and options.
 *
 * This module holds their shape, their validation, and the one canonical JSON encoding
 * every store persists (so "is this upsert a change?" is a text comparison in any backend).
 */
import { InvalidArgumentError, StoreSchemaError } from './errors.js';
import { show } from './show.js';
import { checkMaxRuns, JOB_CODE_PATTERN, type Job } from './job.js';
import { scheduleId } from './pending-requests.js';
import { DEFAULT_MISSED_GRACE_MS } from './plan.js';
import { bindSchedule } from './schedule/bind.js';
import { compileSchedule } from './schedule/engine.js';
import type { ScheduleSpec } from './schedule/spec.js';
import type { OverlapPolicy, ScheduleRef } from './store.js';

/** A JSON value, as a payload must be. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Job options a runtime schedule may set for itself (durations in milliseconds); absent ones come from its job. */
export interface RuntimeScheduleOptions {
  allowParallelRuns?: boolean;
  overlapPolicy?: OverlapPolicy;
  timeoutMs?: number;
  retryAfterFailureMs?: number;
  jitterMs?: number;
  leaseTtlMs?: number;
  missedRunPolicy?: 'latest' | 'skip' | { all: { withinMs: number } };
  /** Scheduled runs before this schedule ends (an integer ≥ 1). */
  maxRuns?: number;
  /** Dead-man window of this schedule (an integer ≥ 1, ms). */
  expectSuccessWithinMs?: number;
}

/** What a runtime schedule is, as persisted (plain JSON apart from the two instants). */
export interface RuntimeScheduleDefinition {
  schedule: ScheduleSpec;
  /** IANA zone for a cron/daily schedule that names none; null: the job's, else the configured default. */
  timezone: string | null;
  /** Handed to the handler as `ctx.payload`; null when none. */
  payload: JsonValue;
  /** A disabled schedule is kept but never claimed. */
  enabled: boolean;
  /** No slot before this instant. */
  startAt: Date | null;
  /** No slot after this instant. */
  expiresAt: Date | null;
  description: string | null;
  options: RuntimeScheduleOptions;
}

/** A runtime schedule as given to a store's `upsertSchedules` (already validated by core). */
export interface RuntimeScheduleInput extends ScheduleRef, RuntimeScheduleDefinition {}

/** A runtime schedule as a store returns it. */
export interface RuntimeSchedule extends RuntimeScheduleInput {
  /**
   * Store-assigned, strictly increasing over all schedules of the store: a schedule gets a new
   * one each time its definition changes. A claim may name it (`SlotClaim.scheduleVersion`).
   */
  version: number;
  createdAt: Date;
  /** When the definition last changed (an upsert that changes nothing leaves it). */
  updatedAt: Date;
}

/**
 * Filter and page of {@link Store.listSchedules}; results are ordered by code, then key (with
 * `partitions`: by partition, then code, then key).
 */
export interface ScheduleQuery {
  /** Only this job's schedules. */
  code?: string;
  /**
   * Only the schedules of these partitions (`partitionOf(code, key)`; distinct integers 0 … 255, in
   * any order; `[]` lists nothing). The store reads only those rows, through an index: a runner
   * with `partitions: true` lists its own share, not every schedule. Results are then ordered by
   * partition, then code, then key; a cursor continues in that order.
   */
  partitions?: readonly number[];
  /** Page size, an integer 1 … 1000, default 100; outside that an `InvalidArgumentError`. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`; a malformed one is an `InvalidArgumentError`. */
  cursor?: string;
}

/** One page of runtime schedules. */
export interface SchedulePage {
  schedules: RuntimeSchedule[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * Keys a runtime schedule may have: 1 … 200 characters from letters, digits and `. _ : - @ / + = #`.
 * No whitespace, quotes, braces (Redis hash tags) or control characters, so every store can hold
 * the key verbatim and a shell can pass it unquoted.
 */
export const SCHEDULE_KEY_PATTERN = /^[A-Za-z0-9._:@/+=#-]{1,200}$/;

/** Largest payload, as UTF-8 JSON: 64 KiB. A schedule's payload should name data, not carry it. */
export const MAX_PAYLOAD_BYTES = 65_536;

/** Most schedules one upsert, remove or get call takes. */
export const MAX_SCHEDULES_PER_CALL = 1_000;

/** Checks a runtime schedule key; throws `InvalidArgumentError` naming `what`. */
export function assertScheduleKey(key: unknown, what: string): asserts key is string {
  if (typeof key !== 'string' || !SCHEDULE_KEY_PATTERN.test(key)) {
    throw new InvalidArgumentError(
      `${what}: key ${show(key)} must be 1 … 200 characters from letters, digits and . _ : - @ / + = # (no spaces, quotes or braces)`,
    );
  }
}

/**
 * Checks that `value` is plain JSON (null, booleans, finite numbers, strings, arrays, plain
 * objects; no cycles) within {@link MAX_PAYLOAD_BYTES}, and returns a deep copy with object
 * keys sorted, so equal payloads encode equally. Throws `InvalidArgumentError` naming the path.
 */
export function checkPayload(value: unknown, what: string): JsonValue {
  const seen = new Set<object>();
  const walk = (item: unknown, path: string): JsonValue => {
    if (item === null || typeof item === 'boolean' || typeof item === 'string') {
      if (typeof item === 'string' && /[\uD800-\uDFFF]/u.test(item)) {
        throw new InvalidArgumentError(`${what}: ${path} holds a lone surrogate (not valid Unicode text)`);
      }
      return item;
    }
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) throw new InvalidArgumentError(`${what}: ${path} is ${item}, which JSON cannot hold`);
      return Object.is(item, -0) ? 0 : item;
    }
    if (typeof item !== 'object') {
      throw new InvalidArgumentError(`${what}: ${path} is ${item === undefined ? 'undefined' : `a ${typeof item}`}, which is not JSON`);
    }
    if (seen.has(item)) throw new InvalidArgumentError(`${what}: ${path} refers back to itself (a cycle is not JSON)`);
    seen.add(item);
    try {
      if (Array.isArray(item)) return item.map((element, i) => walk(element, `${path}[${i}]`));
      const proto = Object.getPrototypeOf(item) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        const name = (item as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        throw new InvalidArgumentError(
          `${what}: ${path} is a ${name}, not a plain object (store a string or number instead, e.g. an ISO date)`,
        );
      }
      const out: Record<string, JsonValue> = {};
      for (const key of Object.keys(item).sort()) {
        const child = (item as Record<string, unknown>)[key];
        if (child === undefined) continue; // as JSON.stringify does
        setOwn(out, key, walk(child, `${path}.${key}`));
      }
      return out;
    } finally {
      seen.delete(item);
    }
  };
  const json = walk(value, 'payload');
  const bytes = new TextEncoder().encode(JSON.stringify(json)).length;
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new InvalidArgumentError(`${what}: payload is ${bytes} bytes as JSON; the limit is ${MAX_PAYLOAD_BYTES}`);
  }
  return json;
}

/**
 * The canonical JSON text of a definition: fixed field order, sorted payload keys, ISO
 * instants. Stores persist it and compare it to decide whether an upsert changes anything.
 */
export function encodeScheduleDefinition(definition: RuntimeScheduleDefinition): string {
  return JSON.stringify({
    schedule: canonical(definition.schedule),
    timezone: definition.timezone,
    payload: canonical(definition.payload),
    enabled: definition.enabled,
    startAt: definition.startAt ? definition.startAt.toISOString() : null,
    expiresAt: definition.expiresAt ? definition.expiresAt.toISOString() : null,
    description: definition.description,
    options: canonical(definition.options),
  });
}

/** Reads a stored definition back; a store's unreadable row is a `StoreSchemaError` naming it. */
export function decodeScheduleDefinition(text: string, where: string): RuntimeScheduleDefinition {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new StoreSchemaError(`${where}: stored schedule definition is not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new StoreSchemaError(`${where}: stored schedule definition is not an object`);
  const r = raw as Record<string, unknown>;
  const bad = (field: string) => new StoreSchemaError(`${where}: stored schedule definition has an invalid ${field}: ${show(r[field])}`);
  const spec = r.schedule as { kind?: unknown } | null;
  if (typeof spec !== 'object' || spec === null || !['every', 'daily', 'cron', 'once'].includes(spec.kind as string)) throw bad('schedule');
  if (r.timezone !== null && typeof r.timezone !== 'string') throw bad('timezone');
  if (typeof r.enabled !== 'boolean') throw bad('enabled');
  if (r.description !== null && typeof r.description !== 'string') throw bad('description');
  if (typeof r.options !== 'object' || r.options === null || Array.isArray(r.options)) throw bad('options');
  const instant = (field: 'startAt' | 'expiresAt'): Date | null => {
    if (r[field] === null || r[field] === undefined) return null;
    const date = typeof r[field] === 'string' ? new Date(r[field]) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw bad(field);
    return date;
  };
  return {
    schedule: spec as ScheduleSpec,
    timezone: r.timezone as string | null,
    payload: (r.payload ?? null) as JsonValue,
    enabled: r.enabled,
    startAt: instant('startAt'),
    expiresAt: instant('expiresAt'),
    description: r.description as string | null,
    options: r.options as RuntimeScheduleOptions,
  };
}

/**
 * What a store checks before an upsert touches anything: a list (possibly empty) of at most
 * {@link MAX_SCHEDULES_PER_CALL} well-formed inputs, valid keys, no key twice in one call.
 * Returns each input's canonical definition text, in order. Throws `InvalidArgumentError`.
 */
export function checkScheduleInputs(inputs: unknown, where: string): { inputs: readonly RuntimeScheduleInput[]; definitions: string[] } {
  if (!Array.isArray(inputs)) throw new InvalidArgumentError(`${where}: expected a list of schedules, got ${show(inputs)}`);
  if (inputs.length > MAX_SCHEDULES_PER_CALL) {
    throw new InvalidArgumentError(`${where}: ${inputs.length} schedules in one call; the limit is ${MAX_SCHEDULES_PER_CALL}`);
  }
  const seen = new Set<string>();
  const definitions = inputs.map((input: unknown, i) => {
    const at = `${where}: schedules[${i}]`;
    if (typeof input !== 'object' || input === null)
      throw new InvalidArgumentError(`${at}: expected a schedule object, got ${show(input)}`);
    const s = input as Partial<RuntimeScheduleInput>;
    if (typeof s.code !== 'string' || !JOB_CODE_PATTERN.test(s.code)) {
      throw new InvalidArgumentError(`${at}: code must be a job code (letters, digits and . _ : -, at most 128), got ${show(s.code)}`);
    }
    assertScheduleKey(s.key, `${at} (job "${s.code}")`);
    const id = scheduleId({ code: s.code, key: s.key });
    if (seen.has(id)) throw new InvalidArgumentError(`${at}: job "${s.code}" key "${s.key}" appears twice in one call`);
    seen.add(id);
    if (typeof s.schedule !== 'object' || s.schedule === null || typeof (s.schedule as { kind?: unknown }).kind !== 'string') {
      throw new InvalidArgumentError(`${at}: schedule must be a schedule spec object, got ${show(s.schedule)}`);
    }
    if (typeof s.enabled !== 'boolean') throw new InvalidArgumentError(`${at}: enabled must be true or false, got ${show(s.enabled)}`);
    for (const field of ['startAt', 'expiresAt'] as const) {
      const value = s[field];
      if (value !== null && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
        throw new InvalidArgumentError(`${at}: ${field} must be a valid Date or null, got ${show(value)}`);
      }
    }
    for (const field of ['timezone', 'description'] as const) {
      if (s[field] !== null && typeof s[field] !== 'string')
        throw new InvalidArgumentError(`${at}: ${field} must be a string or null, got ${show(s[field])}`);
    }
    if (typeof s.options !== 'object' || s.options === null || Array.isArray(s.options)) {
      throw new InvalidArgumentError(`${at}: options must be an object, got ${show(s.options)}`);
    }
    const window = s.options.expectSuccessWithinMs;
    if (window !== undefined && (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 1)) {
      throw new InvalidArgumentError(
        `${at} (job "${s.code}" key "${s.key}"): options.expectSuccessWithinMs must be an integer ≥ 1 (ms), got ${show(window)}`,
      );
    }
    if (s.options.maxRuns !== undefined)
      checkMaxRuns(s.options.maxRuns, `${at} (job "${s.code}" key "${s.key}"): options.maxRuns`, InvalidArgumentError);
    checkPayload(s.payload === undefined ? null : s.payload, `${at} (job "${s.code}" key "${s.key}")`);
    // A spec this version cannot compile would be stored and then fail every read of it: refuse it now.
    try {
      compileSchedule(s.schedule, { timezone: s.timezone ?? 'UTC', what: `${at} (job "${s.code}" key "${s.key}"): schedule` });
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error), { cause: error });
    }
    return encodeScheduleDefinition({ ...(s as RuntimeScheduleInput), payload: s.payload ?? null });
  });
  return { inputs: inputs as RuntimeScheduleInput[], definitions };
}

/** Builds the stored record from a ref, its canonical definition text and the store's bookkeeping. */
export function runtimeScheduleOf(
  ref: ScheduleRef,
  definition: string,
  meta: { version: number; createdAt: Date; updatedAt: Date },
  where: string,
): RuntimeSchedule {
  return {
    code: ref.code,
    key: ref.key,
    ...decodeScheduleDefinition(definition, where),
    version: meta.version,
    createdAt: new Date(meta.createdAt.getTime()),
    updatedAt: new Date(meta.updatedAt.getTime()),
  };
}

/**
 * The job as this runtime schedule runs it: the schedule's own timezone and options over the
 * job's; enabled only when both are; its window the intersection of the job's and the
 * schedule's (`startAt` the later, `expiresAt` the earlier). Given the stored record, slots
 * from before its last change (minus the missed-run grace, as for a new schedule) are not
 * caught up: a changed definition starts afresh, and a retry of a slot planned under an
 * earlier definition is dropped. Planning and execution take the result like any job.
 */
export function runtimeJob<Payload>(job: Job<Payload>, schedule: RuntimeScheduleDefinition & { updatedAt?: Date }): Job<Payload> {
  const o = schedule.options;
  // Exclusive of `updatedAt - grace`, as a new schedule's baseline is of `createdAt - grace`.
  const changedFloor = schedule.updatedAt ? new Date(schedule.updatedAt.getTime() - DEFAULT_MISSED_GRACE_MS + 1) : null;
  return Object.freeze({
    ...job,
    // The job's DST policy, where the schedule names none of its own.
    schedule: bindSchedule(schedule.schedule, { dst: job.dst }),
    enabled: job.enabled && schedule.enabled,
    startAt: latest(job.startAt, schedule.startAt, changedFloor),
    expiresAt: earliest(job.expiresAt, schedule.expiresAt),
    timezone: schedule.timezone ?? job.timezone,
    ...overlapOf(job, o),
    timeoutMs: o.timeoutMs ?? job.timeoutMs,
    retryAfterFailureMs: o.retryAfterFailureMs ?? job.retryAfterFailureMs,
    jitterMs: o.jitterMs ?? job.jitterMs,
    leaseTtlMs: o.leaseTtlMs ?? job.leaseTtlMs,
    missedRunPolicy: o.missedRunPolicy ?? job.missedRunPolicy,
    maxRuns: o.maxRuns ?? job.maxRuns,
    expectSuccessWithinMs: o.expectSuccessWithinMs ?? job.expectSuccessWithinMs,
    description: schedule.description ?? job.description,
    ...(schedule.updatedAt ? { changedAt: schedule.updatedAt } : {}),
  });
}

/**
 * A runtime schedule's own overlap policy over its job's (`allowParallelRuns` alone: `true` is `allowAll`,
 * `false` the job's policy but never `allowAll`).
 */
function overlapOf(
  job: Pick<Job, 'overlapPolicy'>,
  o: RuntimeScheduleOptions,
): { overlapPolicy: OverlapPolicy; allowParallelRuns: boolean } {
  let policy = o.overlapPolicy ?? (o.allowParallelRuns === true ? 'allowAll' : job.overlapPolicy);
  if (o.overlapPolicy === undefined && o.allowParallelRuns === false && policy === 'allowAll') policy = 'skip';
  return { overlapPolicy: policy, allowParallelRuns: policy === 'allowAll' };
}

/** The latest of some optional instants, or null. */
export function latest(...instants: Array<Date | null>): Date | null {
  return instants.reduce<Date | null>((best, d) => (d && (!best || d.getTime() > best.getTime()) ? d : best), null);
}

/** The earliest of some optional instants, or null. */
export function earliest(...instants: Array<Date | null>): Date | null {
  return instants.reduce<Date | null>((best, d) => (d && (!best || d.getTime() < best.getTime()) ? d : best), null);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== undefined) setOwn(out, key, canonical(child));
    }
    return out;
  }
  return value;
}

/** An own, enumerable property, even for the key `__proto__` (plain assignment would set the prototype instead). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
