import { type CheckedPartitionLease, checkPartitionLease, checkPartitionRelease } from '../partitions.js';
import { InvalidArgumentError } from '../errors.js';
import { show } from '../show.js';
import { passedSlotsProblem } from '../passed-check.js';
import { checkOverdueOptions as checkShared, type CheckedOverdueOptions } from '../overdue-check.js';
import {
  completionStatusProblem,
  OVERLAP_POLICIES,
  RUN_STATUSES,
  SKIP_REASONS,
  type CompletionStatus,
  type OverlapPolicy,
  type PassedSlots,
  type RunStatus,
  type RunTrigger,
  type ScheduleRef,
  type SkipReason,
} from '../store.js';

const PREFIX = '[tickwork] [memory-store]';
const TRIGGERS: readonly RunTrigger[] = ['schedule', 'retry', 'manual', 'force'];

function fail(where: string, message: string): never {
  throw new InvalidArgumentError(`${PREFIX} ${where}: ${message}`);
}

/** A schedule reference: non-empty string code, string key. */
export function checkRef(ref: unknown, where: string): asserts ref is ScheduleRef {
  if (typeof ref !== 'object' || ref === null) fail(where, `expected { code, key }, got ${show(ref)}`);
  const { code, key } = ref as Record<string, unknown>;
  if (typeof code !== 'string' || code.length === 0) fail(where, `code must be a non-empty string, got ${show(code)}`);
  if (typeof key !== 'string') fail(where, `key of job "${code}" must be a string ('' for its own schedule), got ${show(key)}`);
}

/** A valid Date. */
export function checkDate(value: unknown, where: string): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(where, `expected a valid Date, got ${show(value)}`);
}

/** An integer within `min … max`. */
export function checkInteger(value: unknown, where: string, min: number, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `expected an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}, got ${show(value)}`);
  }
}

/** A lease length: a positive finite number of milliseconds. */
export function checkLeaseMs(value: unknown, where: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(where, `must be a positive number of milliseconds, got ${show(value)}`);
  }
}

/** A claim trigger. */
export function checkTrigger(value: unknown, where: string): asserts value is RunTrigger {
  if (!TRIGGERS.includes(value as RunTrigger)) fail(where, `trigger must be one of ${TRIGGERS.join(', ')}, got ${show(value)}`);
}

/** An overlap policy. */
export function checkOverlap(value: unknown, where: string): asserts value is OverlapPolicy {
  if (!OVERLAP_POLICIES.includes(value as OverlapPolicy)) fail(where, `must be one of ${OVERLAP_POLICIES.join(', ')}, got ${show(value)}`);
}

/** A status a run can be completed with, and the skip reason that goes with `skipped` (only with it). */
export function checkCompletionStatus(
  completion: { status: unknown; skipReason?: unknown },
  where: string,
): asserts completion is { status: CompletionStatus } {
  const problem = completionStatusProblem(completion);
  if (problem) fail(where, problem);
}

/** A run status filter: one status or a list of them. */
export function checkStatusFilter(value: unknown, where: string): asserts value is RunStatus | readonly RunStatus[] {
  const list = Array.isArray(value) ? value : [value];
  for (const status of list) {
    if (!RUN_STATUSES.includes(status as RunStatus)) fail(where, `unknown run status ${show(status)}`);
  }
}

/** A skip reason filter: one reason or a list of them. */
export function checkReasonFilter(value: unknown, where: string): asserts value is SkipReason | readonly SkipReason[] {
  const list = Array.isArray(value) ? value : [value];
  for (const reason of list) {
    if (!SKIP_REASONS.includes(reason as SkipReason))
      fail(where, `unknown skip reason ${show(reason)} (reasons: ${SKIP_REASONS.join(', ')})`);
  }
}

/** A claim's passed slots (see core's `passedSlotsProblem`). */
export function checkPassed(value: unknown, slotAt: Date, where: string): asserts value is PassedSlots {
  const problem = passedSlotsProblem(value, slotAt);
  if (problem) fail(`${where}${problem.field}`, problem.message);
}

/** A list of job codes. */
export function checkCodes(value: unknown, where: string): asserts value is readonly string[] {
  if (!Array.isArray(value) || value.some((code) => typeof code !== 'string' || code.length === 0)) {
    fail(where, `codes must be a list of non-empty strings, got ${show(value)}`);
  }
}

/** An optional string or null (messages, notes, requestedBy). */
export function checkOptionalText(value: unknown, where: string): asserts value is string | null | undefined {
  if (value !== undefined && value !== null && typeof value !== 'string') fail(where, `expected a string or null, got ${show(value)}`);
}

/** A list argument. */
export function checkList(value: unknown, where: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) fail(where, `expected a list, got ${show(value)}`);
}

/** Throws the memory store's InvalidArgumentError for a failed check done elsewhere. */
export function invalid(where: string, message: string): never {
  fail(where, message);
}

/** `claimOverdue`'s options checked as every store checks them. */
export function checkOverdueOptions(options: unknown): CheckedOverdueOptions {
  return checkShared(options, (message) => fail('claimOverdue', message));
}

/** `leasePartitions`' request checked as every store checks it. */
export function checkLeasePartitions(request: unknown): CheckedPartitionLease {
  return checkPartitionLease(request, (message) => fail('leasePartitions', message));
}

/** `releasePartitions`' request checked as every store checks it. */
export function checkReleasePartitions(request: unknown): { runnerId: string } {
  return checkPartitionRelease(request, (message) => fail('releasePartitions', message));
}
