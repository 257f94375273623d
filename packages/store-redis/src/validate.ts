/** Input checks run before any Redis call, so bad input fails early and changes nothing. */
import { InvalidArgumentError, type RunStatus, type ScheduleRef } from '@tickwork/core';
import {
  type CheckedPartitionLease,
  checkPartitionLease,
  checkPartitionRelease,
  MAX_SCHEDULES_PER_CALL,
  RUN_STATUSES,
  storable,
} from '@tickwork/core/store';
import { MESSAGE_PREFIX } from './errors.js';

/** Throws unless `ref` has a non-empty string code and a string key. */
export function checkRef(ref: ScheduleRef, where: string): void {
  if (ref === null || typeof ref !== 'object')
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}: expected { code, key }, got ${String(ref)}`);
  if (typeof ref.code !== 'string' || ref.code.length === 0) {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}: code must be a non-empty string, got ${JSON.stringify(ref.code)}`);
  }
  if (typeof ref.key !== 'string') {
    throw new InvalidArgumentError(
      `${MESSAGE_PREFIX} ${where}: key of job "${ref.code}" must be a string ('' for the code-defined schedule), got ${String(ref.key)}`,
    );
  }
  if (storable(ref.code) !== ref.code || storable(ref.key) !== ref.key) {
    throw new InvalidArgumentError(
      `${MESSAGE_PREFIX} ${where}: code and key must be well-formed Unicode without NUL (a lone UTF-16 surrogate cannot be stored), got ${JSON.stringify(ref)}`,
    );
  }
}

/**
 * A request as JSON Redis's cjson can decode: free text (notes, messages) with a lone surrogate
 * gets U+FFFD there (core's `storable`) instead of making the script refuse the whole batch.
 */
export function scriptJson(request: unknown): string {
  return JSON.stringify(request, (_key, value: unknown) => (typeof value === 'string' ? storable(value) : value));
}

/** Throws unless `value` is a valid Date; returns its epoch milliseconds. */
export function checkDate(value: unknown, where: string): number {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where} must be a valid Date, got ${String(value)}`);
  }
  if (value.getTime() < 0) throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where} must not be before 1970, got ${value.toISOString()}`);
  return value.getTime();
}

/** Throws unless `value` is an integer within [min, max]. */
export function checkInteger(value: unknown, min: number, max: number, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where} must be an integer within ${min} … ${max}, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is null/undefined or a string; returns it as string | null. */
export function checkOptionalString(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where} must be a string or null, got ${typeof value}`);
  return value;
}

/** Normalises a status filter to a list, checking every entry. */
export function checkStatuses(value: RunStatus | readonly RunStatus[] | undefined): RunStatus[] | null {
  if (value === undefined) return null;
  const list = typeof value === 'string' ? [value] : [...value];
  for (const status of list) {
    if (!RUN_STATUSES.includes(status)) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} queryRuns: status "${String(status)}" is not one of ${RUN_STATUSES.join(', ')}`);
    }
  }
  return list;
}

/** Throws unless `codes` is absent or a list of strings. */
export function checkCodes(codes: readonly string[] | undefined, where: string): string[] | null {
  if (codes === undefined) return null;
  if (!Array.isArray(codes) || codes.some((code) => typeof code !== 'string')) {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}: codes must be a list of strings`);
  }
  return [...codes];
}

/** Throws unless `refs` is a list of at most {@link MAX_SCHEDULES_PER_CALL} refs; with `runtime`, each key must be a runtime one (≠ ''). */
export function checkRefList(refs: readonly ScheduleRef[], where: string, runtime: boolean): readonly ScheduleRef[] {
  if (!Array.isArray(refs)) throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}: refs must be a list, got ${String(refs)}`);
  if (refs.length > MAX_SCHEDULES_PER_CALL) {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}: ${refs.length} refs in one call; the limit is ${MAX_SCHEDULES_PER_CALL}`);
  }
  refs.forEach((ref, i) => {
    checkRef(ref, `${where}: refs[${i}]`);
    if (runtime && ref.key === '') {
      throw new InvalidArgumentError(
        `${MESSAGE_PREFIX} ${where}: refs[${i}]: key '' is job "${ref.code}"'s own schedule, not a runtime one`,
      );
    }
  });
  return refs;
}

/** `leasePartitions`' request, checked as every store checks it. */
export function checkLeasePartitions(request: unknown): CheckedPartitionLease {
  return checkPartitionLease(request, (message) => {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} leasePartitions: ${message}`);
  });
}

/** `releasePartitions`' request, checked as every store checks it. */
export function checkReleasePartitions(request: unknown): { runnerId: string } {
  return checkPartitionRelease(request, (message) => {
    throw new InvalidArgumentError(`${MESSAGE_PREFIX} releasePartitions: ${message}`);
  });
}
