/**
 * The key layout. Everything one job owns shares the hash tag `{<code>}` so it lives in one
 * Redis Cluster slot (its runtime schedules too, one hash each, and the indexes of its pending
 * run-now requests); what spans jobs (the global run index, leases by expiry, run-now requests
 * and their global order, the code registry, the schedule index and counters) lives under
 * `<prefix>:#:`. Codes are percent-encoded in key
 * names, so a code containing `{`, `}` or `:` cannot break the tag or the layout.
 */

/** Redis types each key kind must hold. */
export type RedisType = 'hash' | 'zset' | 'set' | 'string';

/** Per-job keys and the Redis type each holds. */
export const JOB_KEYS = {
  states: 'hash',
  claims: 'hash',
  runs: 'hash',
  active: 'hash',
  waiting: 'hash',
  seq: 'string',
  index: 'zset',
  requests: 'zset',
  reqrefs: 'zset',
} as const satisfies Record<string, RedisType>;

/** The kinds of {@link JOB_KEYS}, in their order. */
const JOB_KINDS = Object.keys(JOB_KEYS) as (keyof typeof JOB_KEYS)[];

/** Keys shared by the jobs of one shard (every job on a single node), and the Redis type each holds. */
export const SHARD_KEYS = {
  codes: 'set',
  index: 'zset',
  leases: 'zset',
  finished: 'zset',
  requests: 'zset',
  request: 'hash',
  reqseq: 'string',
  schedules: 'zset',
  schedparts: 'zset',
  schedseq: 'string',
  schedrev: 'hash',
} as const satisfies Record<string, RedisType>;

/** Keys of the runners, maintenance, the audit log, tokens and partition leases: one slot of their own on a Cluster. */
export const META_KEYS = {
  runners: 'hash',
  runnerexp: 'zset',
  maintenance: 'hash',
  audit: 'zset',
  auditat: 'zset',
  auditrow: 'hash',
  auditseq: 'string',
  tokens: 'hash',
  partitions: 'hash',
  partmembers: 'hash',
} as const satisfies Record<string, RedisType>;

/** Keys shared by every job of one prefix, and the Redis type each holds. */
export const GLOBAL_KEYS = { ...SHARD_KEYS, ...META_KEYS } as const;

/** A job code as it appears inside key names and run ids. */
export function encodeCode(code: string): string {
  return encodeURIComponent(code);
}

/** The inverse of {@link encodeCode}; null when `encoded` is not a valid encoding. */
export function decodeCode(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}

/** The name of one per-job key. */
export function jobKey(prefix: string, encodedCode: string, kind: keyof typeof JOB_KEYS): string {
  return `${prefix}:{${encodedCode}}:${kind}`;
}

/** The name of one global key. */
export function globalKey(prefix: string, kind: keyof typeof GLOBAL_KEYS): string {
  return `${prefix}:#:${kind}`;
}

/** The hash of one runtime schedule (`definition`, `enabled`, `version`, `createdAt`, `updatedAt`). */
export function scheduleKey(prefix: string, encodedCode: string, key: string): string {
  return `${prefix}:{${encodedCode}}:schedule:${key}`;
}

/** The channel a runner's presence connection subscribes to while the runner lives (PUBSUB NUMSUB counts it). */
export function presenceChannel(prefix: string, runnerId: string): string {
  return `${prefix}:#:presence:${runnerId}`;
}

/** The pub/sub channel changes are published on. */
export function changeChannel(prefix: string): string {
  return `${prefix}:#:changes`;
}

/** Every key (with its expected type) that an operation on these encoded codes may touch. */
export function keysOf(prefix: string, encodedCodes: Iterable<string>): [string, RedisType][] {
  const out: [string, RedisType][] = Object.entries(GLOBAL_KEYS).map(([kind, type]) => [
    globalKey(prefix, kind as keyof typeof GLOBAL_KEYS),
    type,
  ]);
  for (const code of new Set(encodedCodes)) {
    for (const [kind, type] of Object.entries(JOB_KEYS)) out.push([jobKey(prefix, code, kind as keyof typeof JOB_KEYS), type]);
  }
  return out;
}

/** Width of the zero-padded millisecond instant at the start of index members (sorts lexicographically = numerically). */
export const INSTANT_WIDTH = 15;

/** A millisecond instant zero-padded for lexicographic index members. */
export function padInstant(ms: number): string {
  return String(Math.max(0, Math.trunc(ms))).padStart(INSTANT_WIDTH, '0');
}

const RUN_ID = /^(\d{1,15})\.([A-Za-z0-9\-_.!~*'()%]+)$/;

/** Splits a run id `<n>.<encoded code>` into its parts; null for anything this store did not issue. */
export function parseRunId(id: string): { n: string; encodedCode: string } | null {
  const match = RUN_ID.exec(id);
  if (!match || decodeCode(match[2] as string) === null) return null;
  return { n: match[1] as string, encodedCode: match[2] as string };
}

/** How many shards the per-shard indexes are split into on a Redis Cluster. Fixed: changing it would orphan every key. */
export const CLUSTER_SHARDS = 16;

/** FNV-1a (32 bits) of a string's UTF-16 code units: stable, so a job stays in its shard across versions and processes. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Where each key lives. On a single node (`classic`) it is the layout every earlier version
 * wrote — `P:{<code>}:<kind>` per job, `P:#:<kind>` for the rest, one shard — so an upgrade reads
 * existing keys as they are. On a Cluster every job belongs to one of {@link CLUSTER_SHARDS}
 * shards by a hash of its encoded code: its keys and its shard's indexes share the hash tag
 * `{P.<shard>}` (one slot), and runners, maintenance, the audit log and tokens share `{P}`.
 * Every script touches the keys of one shard, or the meta keys, never both.
 */
export class Layout {
  /** The shard numbers: [0] on a single node. */
  readonly shards: readonly number[];

  constructor(
    readonly prefix: string,
    readonly cluster: boolean,
  ) {
    this.shards = cluster ? Array.from({ length: CLUSTER_SHARDS }, (_, i) => i) : [0];
  }

  /** The shard of a job (by its encoded code). */
  shardOf(encodedCode: string): number {
    return this.cluster ? fnv1a(encodedCode) % CLUSTER_SHARDS : 0;
  }

  /** The hash tag of a shard's keys; '' on a single node (each job keeps its own tag there). */
  tag(shard: number): string {
    return this.cluster ? `{${this.prefix}.${shard}}` : '';
  }

  /** The hash tag of the meta keys; '' on a single node. */
  get metaTag(): string {
    return this.cluster ? `{${this.prefix}}` : '';
  }

  job(encodedCode: string, kind: keyof typeof JOB_KEYS): string {
    if (!this.cluster) return jobKey(this.prefix, encodedCode, kind);
    return `${this.prefix}:${this.tag(this.shardOf(encodedCode))}:${encodedCode}:${kind}`;
  }

  schedule(encodedCode: string, key: string): string {
    if (!this.cluster) return scheduleKey(this.prefix, encodedCode, key);
    return `${this.prefix}:${this.tag(this.shardOf(encodedCode))}:${encodedCode}:schedule:${key}`;
  }

  shard(shard: number, kind: keyof typeof SHARD_KEYS): string {
    if (!this.cluster) return globalKey(this.prefix, kind);
    return `${this.prefix}:${this.tag(shard)}:#:${kind}`;
  }

  meta(kind: keyof typeof META_KEYS): string {
    if (!this.cluster) return globalKey(this.prefix, kind);
    return `${this.prefix}:${this.metaTag}:#:${kind}`;
  }

  /** Every key of these jobs (they must share one shard on a Cluster), with its type. */
  jobKeys(encodedCodes: Iterable<string>): [string, RedisType][] {
    const out: [string, RedisType][] = [];
    for (const ce of new Set(encodedCodes)) {
      for (const [kind, type] of Object.entries(JOB_KEYS)) out.push([this.job(ce, kind as keyof typeof JOB_KEYS), type]);
    }
    return out;
  }

  /**
   * The names of every key of these jobs, appended to `out`: {@link jobKeys} without the types, each
   * job's name stem built once — a script call declares them for every job it touches, a burst's
   * claims and completions for thousands of jobs.
   */
  jobKeyNames(encodedCodes: Iterable<string>, out: string[]): string[] {
    for (const ce of new Set(encodedCodes)) {
      const stem = this.cluster ? `${this.prefix}:${this.tag(this.shardOf(ce))}:${ce}:` : `${this.prefix}:{${ce}}:`;
      for (const kind of JOB_KINDS) out.push(stem + kind);
    }
    return out;
  }

  /** Every shard key of one shard, with its type. */
  shardKeys(shard: number): [string, RedisType][] {
    return Object.entries(SHARD_KEYS).map(([kind, type]) => [this.shard(shard, kind as keyof typeof SHARD_KEYS), type]);
  }

  /** Every meta key, with its type. */
  metaKeys(): [string, RedisType][] {
    return Object.entries(META_KEYS).map(([kind, type]) => [this.meta(kind as keyof typeof META_KEYS), type]);
  }

  /** Groups items by the shard of their encoded code, keeping their order within each shard. */
  byShard<T>(items: readonly T[], ce: (item: T) => string): Map<number, { item: T; index: number }[]> {
    const groups = new Map<number, { item: T; index: number }[]>();
    items.forEach((item, index) => {
      const shard = this.shardOf(ce(item));
      const group = groups.get(shard) ?? [];
      if (group.length === 0) groups.set(shard, group);
      group.push({ item, index });
    });
    return groups;
  }
}
