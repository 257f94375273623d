/**
 * Partitioned schedules (issue #23): runtime schedules fall into {@link PARTITION_COUNT} fixed
 * partitions by a hash of `(code, key)`, and runners divide the partitions among themselves
 * through the store ({@link Store.leasePartitions}). The store's one atomic operation decides
 * every hand-over: no runner talks to another, nothing is decided by timing.
 *
 * Partitions bound memory and work (a runner loads only its partitions' runtime schedules); they
 * are not what makes a slot run once — the store's slot claims are, whoever holds a partition.
 */
import { show } from './show.js';

/** How many partitions runtime schedules fall into. Fixed: every runner and store must agree on it. */
export const PARTITION_COUNT = 256;

/** Shortest partition lease a runner may ask for (ms). */
export const MIN_PARTITION_TTL_MS = 1_000;
/** Longest partition lease a runner may ask for (ms). */
export const MAX_PARTITION_TTL_MS = 3_600_000;

/**
 * The partition of a schedule: FNV-1a (32 bits) of the UTF-16 code units of `code`, a NUL and
 * `key`, modulo {@link PARTITION_COUNT}. Stable across versions and processes.
 */
export function partitionOf(code: string, key: string): number {
  let h = 0x811c9dc5;
  const text = `${code}\u0000${key}`;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % PARTITION_COUNT;
}

/** What a runner asks for on every renewal ({@link Store.leasePartitions}). */
export interface PartitionLeaseRequest {
  runnerId: string;
  /** The runner's current time. */
  now: Date;
  /** The runner's membership and its partitions' leases run until `now + ttlMs` unless it renews (an integer 1000 … 3,600,000). */
  ttlMs: number;
  /**
   * Hold at most this many partitions (an integer 1 … {@link PARTITION_COUNT}; default
   * {@link PARTITION_COUNT}): the share is the lower of the fair share and this. A runner that knows
   * of others not yet members (a fleet starting together) asks for its share among them.
   */
  limit?: number;
}

/** One partition a runner holds. */
export interface PartitionLease {
  partition: number;
  /** Fencing token: strictly increasing per partition each time another runner takes it over. */
  token: number;
}

/** The answer of {@link Store.leasePartitions}: what the runner holds now. */
export interface PartitionLeases {
  /** The partitions held, ascending. */
  partitions: PartitionLease[];
  /** Every held partition's lease runs until then (`now + ttlMs`). */
  expiresAt: Date;
  /** Live members of the partitioning (the caller included) as the store counted them. */
  runners: number;
  /** The caller's share: ceil({@link PARTITION_COUNT} / `runners`), or the request's `limit` when lower. */
  share: number;
}

/** A partition's stored lease: its owner (null: free), the owner's lease expiry in epoch ms, its token. */
export interface PartitionSlot {
  owner: string | null;
  expiresAt: number;
  token: number;
}

/** The request as every store reads it. */
export interface CheckedPartitionLease {
  runnerId: string;
  now: number;
  ttlMs: number;
  /** The request's `limit`, {@link PARTITION_COUNT} when it named none. */
  limit: number;
}

/**
 * Checks `leasePartitions`' request; every store refuses the same input. `fail` throws the store's
 * `InvalidArgumentError` with the message (which names the field), before anything changes.
 */
export function checkPartitionLease(request: unknown, fail: (message: string) => never): CheckedPartitionLease {
  if (request === null || typeof request !== 'object') fail(`expected { runnerId, now, ttlMs, limit? }, got ${show(request)}`);
  const { runnerId, now, ttlMs, limit = PARTITION_COUNT } = request as Record<string, unknown>;
  checkRunnerId(runnerId, fail);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) fail(`now: expected a valid Date, got ${show(now)}`);
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < MIN_PARTITION_TTL_MS || ttlMs > MAX_PARTITION_TTL_MS) {
    fail(
      `ttlMs of runner ${show(runnerId)} must be an integer from ${MIN_PARTITION_TTL_MS} to ${MAX_PARTITION_TTL_MS} (ms), got ${show(ttlMs)}`,
    );
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > PARTITION_COUNT) {
    fail(`limit of runner ${show(runnerId)} must be an integer from 1 to ${PARTITION_COUNT} (partitions), got ${show(limit)}`);
  }
  return { runnerId, now: now.getTime(), ttlMs, limit };
}

/**
 * Checks a list of partitions (`listSchedules`' `query.partitions`): an array of distinct integers
 * 0 … {@link PARTITION_COUNT} - 1. `at` names the field in the message.
 */
export function checkPartitionList(
  partitions: unknown,
  at: string,
  fail: (message: string) => never,
): asserts partitions is readonly number[] {
  if (!Array.isArray(partitions))
    fail(`${at} must be a list of partitions (integers 0 to ${PARTITION_COUNT - 1}), got ${show(partitions)}`);
  const seen = new Set<number>();
  partitions.forEach((partition: unknown, i) => {
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition >= PARTITION_COUNT) {
      fail(`${at}[${i}] must be an integer from 0 to ${PARTITION_COUNT - 1}, got ${show(partition)}`);
    }
    if (seen.has(partition)) fail(`${at}[${i}] repeats partition ${partition}`);
    seen.add(partition);
  });
}

/**
 * Where a partitioned list (`listSchedules` with `partitions`, checked) goes on: the partitions
 * to read, ascending, and the ref to continue after in the first of them (null: from its start).
 * A cursor's ref lies in partition `partitionOf(code, key)`; the list continues after it there
 * (when that partition is asked for) and then from the start of each later one.
 */
export function partitionListPlan(
  partitions: readonly number[],
  after: { code: string; key: string } | null,
): { partitions: number[]; after: { code: string; key: string } | null } {
  const sorted = [...partitions].sort((a, b) => a - b);
  if (after === null) return { partitions: sorted, after: null };
  const from = partitionOf(after.code, after.key);
  const rest = sorted.filter((partition) => partition >= from);
  return { partitions: rest, after: rest[0] === from ? after : null };
}

/** Checks `releasePartitions`' request as {@link checkPartitionLease} does. */
export function checkPartitionRelease(request: unknown, fail: (message: string) => never): { runnerId: string } {
  if (request === null || typeof request !== 'object') fail(`expected { runnerId }, got ${show(request)}`);
  const { runnerId } = request as Record<string, unknown>;
  checkRunnerId(runnerId, fail);
  return { runnerId };
}

// Runner ids are stored verbatim by every store: no NUL, no lone surrogates, at most 200 characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the pattern refuses.
const STORABLE_ID = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])+$/;

function checkRunnerId(runnerId: unknown, fail: (message: string) => never): asserts runnerId is string {
  if (typeof runnerId !== 'string' || runnerId.length === 0 || runnerId.length > 200 || !STORABLE_ID.test(runnerId)) {
    fail(`runnerId must be a string of 1 to 200 characters without NUL or lone surrogates, got ${show(runnerId)}`);
  }
}

/** What {@link planPartitionLease} changed, for a store that writes back only that. */
export interface PartitionPlan {
  leases: PartitionLeases;
  /** Partitions whose slot changed (owner, expiry or token). */
  changed: number[];
  /** Members whose membership had lapsed, removed. */
  removed: string[];
}

/**
 * The one partition rule, applied to the stored slots (indexed by partition, mutated in place)
 * and members (runner id → membership expiry in epoch ms, mutated in place) inside the store's
 * atomic operation: the caller's membership runs to `now + ttlMs` and lapsed members are
 * removed; its share is ceil(P / live members), or the request's `limit` when lower; it keeps the partitions it holds up to that
 * share (releasing the highest-numbered ones above it, so a joining runner finds free ones),
 * takes free or lapsed ones (lowest first) up to it, each taken one's token + 1, and renews what
 * it holds to `now + ttlMs`. Every runner that renews within its TTL thus converges to its share.
 */
export function planPartitionLease(
  slots: PartitionSlot[],
  members: Map<string, number>,
  { runnerId, now, ttlMs, limit }: CheckedPartitionLease,
): PartitionPlan {
  const expiresAt = now + ttlMs;
  const removed: string[] = [];
  for (const [id, until] of members) {
    if (id !== runnerId && until <= now) removed.push(id);
  }
  for (const id of removed) members.delete(id);
  members.set(runnerId, expiresAt);
  const runners = members.size;
  const share = Math.min(Math.ceil(PARTITION_COUNT / runners), limit);
  const changed = new Set<number>();
  const held: number[] = [];
  slots.forEach((slot, partition) => {
    if (slot.owner === runnerId) held.push(partition);
  });
  for (const partition of held.splice(share)) {
    const slot = slots[partition] as PartitionSlot;
    slot.owner = null;
    slot.expiresAt = 0;
    changed.add(partition);
  }
  for (let partition = 0; partition < slots.length && held.length < share; partition += 1) {
    const slot = slots[partition] as PartitionSlot;
    if (slot.owner === runnerId || (slot.owner !== null && slot.expiresAt > now)) continue;
    slot.owner = runnerId;
    slot.token += 1;
    held.push(partition);
  }
  held.sort((a, b) => a - b);
  for (const partition of held) {
    const slot = slots[partition] as PartitionSlot;
    slot.expiresAt = expiresAt;
    changed.add(partition);
  }
  return {
    leases: {
      partitions: held.map((partition) => ({ partition, token: (slots[partition] as PartitionSlot).token })),
      expiresAt: new Date(expiresAt),
      runners,
      share,
    },
    changed: [...changed].sort((a, b) => a - b),
    removed,
  };
}

/** Releases every partition `runnerId` holds (and its membership) in the stored slots; answers how many it held. */
export function planPartitionRelease(slots: PartitionSlot[], members: Map<string, number>, runnerId: string): number[] {
  members.delete(runnerId);
  const released: number[] = [];
  slots.forEach((slot, partition) => {
    if (slot.owner !== runnerId) return;
    slot.owner = null;
    slot.expiresAt = 0;
    released.push(partition);
  });
  return released;
}

/** {@link PARTITION_COUNT} free slots. */
export function freePartitionSlots(): PartitionSlot[] {
  return Array.from({ length: PARTITION_COUNT }, () => ({ owner: null, expiresAt: 0, token: 0 }));
}
