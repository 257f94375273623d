/**
 * The memory store's argument checks: the contract's (core's `checkStoreArguments`) with this
 * store's prefix. It adds no limit of its own.
 */
import { type CheckedPartitionLease, checkPartitionLease, checkPartitionRelease } from '../partitions.js';
import { messagePrefix } from '../errors.js';
import { argumentChecksFor, type StoreArgumentChecks, type StoreArgumentFail } from '../store-arguments.js';

/** `[tickwork] [memory-store]`: the start of every message the memory store writes. */
export const PREFIX = messagePrefix('memory-store');

/** `fail(message)`, `check(operation, ...args)` and `checkUpsert(schedules, now)` with the memory store's prefix. */
const checks = argumentChecksFor(PREFIX);
export const fail: StoreArgumentFail = checks.fail;
export const check: StoreArgumentChecks['check'] = checks.check;
export const checkUpsert: StoreArgumentChecks['checkUpsert'] = checks.checkUpsert;

/** Throws the memory store's InvalidArgumentError for a check of its own (`where`: the operation and field). */
export function invalid(where: string, message: string): never {
  return fail(`${where}: ${message}`);
}

/** `leasePartitions`' request, checked as every store checks it. */
export function checkLeasePartitions(request: unknown): CheckedPartitionLease {
  return checkPartitionLease(request, (message) => fail(`leasePartitions: ${message}`));
}

/** `releasePartitions`' request, checked as every store checks it. */
export function checkReleasePartitions(request: unknown): { runnerId: string } {
  return checkPartitionRelease(request, (message) => fail(`releasePartitions: ${message}`));
}
