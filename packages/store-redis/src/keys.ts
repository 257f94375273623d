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

/** Keys shared by every job of one prefix, and the Redis type each holds. */
export const GLOBAL_KEYS = {
  codes: 'set',
  index: 'zset',
  leases: 'zset',
  finished: 'zset',
  requests: 'zset',
  request: 'hash',
  reqseq: 'string',
  schedules: 'zset',
  schedseq: 'string',
  schedrev: 'hash',
  runners: 'hash',
  runnerexp: 'zset',
  maintenance: 'hash',
  audit: 'zset',
  auditat: 'zset',
  auditrow: 'hash',
  auditseq: 'string',
  tokens: 'hash',
} as const satisfies Record<string, RedisType>;

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
