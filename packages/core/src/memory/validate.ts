/**
 * The memory store's argument checks: the contract's (core's `checkStoreArguments`) with this
 * store's prefix. It adds no limit of its own.
 */
import { type CheckedPartitionLease, checkPartitionLease, checkPartitionRelease } from '../partitions.js';
import { InvalidArgumentError } from '../errors.js';
import type { StoreArguments, StoreOperation } from '../decorate-store.js';
import { checkStoreArguments } from '../store-arguments.js';

const PREFIX = '[tickwork] [memory-store]';

/** Throws the memory store's InvalidArgumentError: the prefix, then `message` (which starts with the operation). */
export function fail(message: string): never {
  throw new InvalidArgumentError(`${PREFIX} ${message}`);
}

/** Checks one operation's arguments as every store checks them. */
export function check<K extends StoreOperation>(operation: K, ...args: StoreArguments<K>): void {
  checkStoreArguments(operation, args, fail);
}

/** Throws the memory store's InvalidArgumentError for a check of its own (`where`: the operation and field). */
export function invalid(where: string, message: string): never {
  fail(`${where}: ${message}`);
}

/** `leasePartitions`' request, checked as every store checks it. */
export function checkLeasePartitions(request: unknown): CheckedPartitionLease {
  return checkPartitionLease(request, (message) => fail(`leasePartitions: ${message}`));
}

/** `releasePartitions`' request, checked as every store checks it. */
export function checkReleasePartitions(request: unknown): { runnerId: string } {
  return checkPartitionRelease(request, (message) => fail(`releasePartitions: ${message}`));
}
