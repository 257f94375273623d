import { type Job } from './job.js';
import type { ScheduleSpec } from './schedule/spec.js';
import type { OverlapPolicy, ScheduleRef } from './store.js';
/** A JSON value, as a payload must be. */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
    [key: string]: JsonValue;
};
/** Job options a runtime schedule may set for itself (durations in milliseconds); absent ones come from its job. */
export interface RuntimeScheduleOptions {
    allowParallelRuns?: boolean;
    overlapPolicy?: OverlapPolicy;
    timeoutMs?: number;
    retryAfterFailureMs?: number;
    jitterMs?: number;
    leaseTtlMs?: number;
    missedRunPolicy?: 'latest' | 'skip' | {
        all: {
            withinMs: number;
        };
    };
    /** Scheduled runs before this schedule ends (an integer ≥ 1). */
    maxRuns?: number;
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
export interface RuntimeScheduleInput extends ScheduleRef, RuntimeScheduleDefinition {
}
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
/** Filter and page of {@link Store.listSchedules}; results are ordered by code, then key. */
export interface ScheduleQuery {
    /** Only this job's schedules. */
    code?: string;
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
export declare const SCHEDULE_KEY_PATTERN: RegExp;
/** Largest payload, as UTF-8 JSON: 64 KiB. A schedule's payload should name data, not carry it. */
export declare const MAX_PAYLOAD_BYTES = 65536;
/** Most schedules one upsert, remove or get call takes. */
export declare const MAX_SCHEDULES_PER_CALL = 1000;
/** Checks a runtime schedule key; throws `InvalidArgumentError` naming `what`. */
export declare function assertScheduleKey(key: unknown, what: string): asserts key is string;
/**
 * Checks that `value` is plain JSON (null, booleans, finite numbers, strings, arrays, plain
 * objects; no cycles) within {@link MAX_PAYLOAD_BYTES}, and returns a deep copy with object
 * keys sorted, so equal payloads encode equally. Throws `InvalidArgumentError` naming the path.
 */
export declare function checkPayload(value: unknown, what: string): JsonValue;
/**
 * The canonical JSON text of a definition: fixed field order, sorted payload keys, ISO
 * instants. Stores persist it and compare it to decide whether an upsert changes anything.
 */
export declare function encodeScheduleDefinition(definition: RuntimeScheduleDefinition): string;
/** Reads a stored definition back; a store's unreadable row is a `StoreSchemaError` naming it. */
export declare function decodeScheduleDefinition(text: string, where: string): RuntimeScheduleDefinition;
/**
 * What a store checks before an upsert touches anything: a list (possibly empty) of at most
 * {@link MAX_SCHEDULES_PER_CALL} well-formed inputs, valid keys, no key twice in one call.
 * Returns each input's canonical definition text, in order. Throws `InvalidArgumentError`.
 */
export declare function checkScheduleInputs(inputs: unknown, where: string): {
    inputs: readonly RuntimeScheduleInput[];
    definitions: string[];
};
/** Builds the stored record from a ref, its canonical definition text and the store's bookkeeping. */
export declare function runtimeScheduleOf(ref: ScheduleRef, definition: string, meta: {
    version: number;
    createdAt: Date;
    updatedAt: Date;
}, where: string): RuntimeSchedule;
/**
 * The job as this runtime schedule runs it: the schedule's own timezone and options over the
 * job's; enabled only when both are; its window the intersection of the job's and the
 * schedule's (`startAt` the later, `expiresAt` the earlier). Given the stored record, slots
 * from before its last change (minus the missed-run grace, as for a new schedule) are not
 * caught up: a changed definition starts afresh, and a retry of a slot planned under an
 * earlier definition is dropped. Planning and execution take the result like any job.
 */
export declare function runtimeJob<Payload>(job: Job<Payload>, schedule: RuntimeScheduleDefinition & {
    updatedAt?: Date;
}): Job<Payload>;
/** The latest of some optional instants, or null. */
export declare function latest(...instants: Array<Date | null>): Date | null;
/** The earliest of some optional instants, or null. */
export declare function earliest(...instants: Array<Date | null>): Date | null;
//# sourceMappingURL=runtime-schedule.d.ts.map