import type { RunRequest, ScheduleRef, Store } from './store.js';

/** Most pending run-now requests one read looks at. */
export const RUN_REQUEST_PEEK_LIMIT = 1000;
/** Most refs one by-ref read names. */
const REF_PAGE = 1000;

/** What {@link findPendingRequests} looks for. */
export interface PendingRequestsQuery {
  /** The job codes of the schedules this runner could run: asked by only when the peek comes back full. */
  codes: () => readonly string[];
  /** Whether this runner takes this request now (its schedule loaded, enabled, not paused). */
  wanted: (request: RunRequest) => boolean;
  /** Stops looking once wanted requests of this many schedules are found (read before each further read; 0 stops). Unbounded by default. */
  enough?: () => number;
  /** The schedules to ask for one by one (in pages) when the by-code read is full too. Not asked by default. */
  refs?: () => readonly ScheduleRef[];
}

/**
 * The pending run-now requests a runner takes, oldest first. The first read names no job
 * (`pendingRunRequests({ limit: 1000 })`, answered from each store's index of pending requests),
 * so a tick or poll with nothing pending costs one small read whatever the number of jobs; the
 * requests of schedules this runner does not take are skipped and stay pending. Only when that
 * peek comes back full and short of `enough` schedules with wanted requests — 1,000 older ones it cannot take
 * (paused schedules', other deployments') may hide its own — does it ask by its jobs' codes, and,
 * when `refs` is given and that read is full too, by each schedule's ref.
 */
export async function findPendingRequests(store: Store, query: PendingRequestsQuery): Promise<RunRequest[]> {
  const enough = query.enough ?? (() => Number.POSITIVE_INFINITY);
  const peek = await store.pendingRunRequests({ limit: RUN_REQUEST_PEEK_LIMIT });
  let found = peek.filter(query.wanted);
  if (peek.length < RUN_REQUEST_PEEK_LIMIT || schedules(found) >= enough()) return found;
  const byCode = await store.pendingRunRequests({ codes: query.codes(), limit: RUN_REQUEST_PEEK_LIMIT });
  found = byCode.filter(query.wanted);
  if (byCode.length < RUN_REQUEST_PEEK_LIMIT || schedules(found) >= enough() || !query.refs) return found;
  const refs = query.refs();
  found = [];
  for (let i = 0; i < refs.length && schedules(found) < enough(); i += REF_PAGE) {
    const page = await store.pendingRunRequests({ refs: refs.slice(i, i + REF_PAGE), limit: RUN_REQUEST_PEEK_LIMIT });
    found.push(...page.filter(query.wanted));
  }
  return found;
}

/** How many schedules these requests are of. */
function schedules(requests: readonly RunRequest[]): number {
  return new Set(requests.map(scheduleId)).size;
}

/** One string per schedule `(code, key)`, for maps and sets keyed by schedule. */
export function scheduleId(ref: { code: string; key: string }): string {
  return `${ref.code}\u0000${ref.key}`;
}
