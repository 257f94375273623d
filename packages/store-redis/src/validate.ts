/**
 * The Redis store's argument checks, run before any Redis call so bad input fails early and
 * changes nothing: the contract's (core's `checkStoreArguments`, run first by `check`) with this
 * store's prefix, then only this store's own limit (codes and keys must be well-formed Unicode).
 */
import type { ScheduleRef } from '@tickwork/core';
import {
  argumentChecksFor,
  type CheckedPartitionLease,
  checkPartitionLease,
  checkPartitionRelease,
  type StoreArgumentChecks,
  type StoreArgumentFail,
  storable,
} from '@tickwork/core/store';
import { MESSAGE_PREFIX } from './errors.js';

/** `fail(message)`, `check(operation, ...args)` (run first by every method) and `checkUpsert(schedules, now)` with this store's prefix. */
const checks = argumentChecksFor(MESSAGE_PREFIX);
export const fail: StoreArgumentFail = checks.fail;
export const check: StoreArgumentChecks['check'] = checks.check;
export const checkUpsert: StoreArgumentChecks['checkUpsert'] = checks.checkUpsert;

/**
 * Refuses a ref (already checked by `check`) whose code or key is not well-formed Unicode or
 * holds NUL: keys and script requests carry them, and a lone UTF-16 surrogate cannot be stored.
 */
export function checkStorable(ref: ScheduleRef, where: string): void {
  if (storable(ref.code) !== ref.code || storable(ref.key) !== ref.key) {
    fail(
      `${where}: code and key must be well-formed Unicode without NUL (a lone UTF-16 surrogate cannot be stored), got ${JSON.stringify(ref)}`,
    );
  }
}

/** {@link checkStorable} for each ref of a list (`where` names the list). */
export function checkStorableRefs(refs: readonly ScheduleRef[], where: string): void {
  refs.forEach((ref, i) => {
    checkStorable(ref, `${where}[${i}]`);
  });
}

/**
 * A request as JSON Redis's cjson can decode: free text (notes, messages) with a lone surrogate
 * gets U+FFFD there (core's `storable`) instead of making the script refuse the whole batch.
 */
export function scriptJson(request: unknown): string {
  return JSON.stringify(request, (_key, value: unknown) => (typeof value === 'string' ? storable(value) : value));
}

/** `leasePartitions`' request, checked as every store checks it. */
export function checkLeasePartitions(request: unknown): CheckedPartitionLease {
  return checkPartitionLease(request, (message) => fail(`leasePartitions: ${message}`));
}

/** `releasePartitions`' request, checked as every store checks it. */
export function checkReleasePartitions(request: unknown): { runnerId: string } {
  return checkPartitionRelease(request, (message) => fail(`releasePartitions: ${message}`));
}
