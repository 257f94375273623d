import type { RunRecord, RunStatus, Store } from '@tickwork/core';

/** When reminders follow a streak's first message: every so long, every so many failures, or never. */
export type ReminderRule = { everyMs: number } | { everyFailures: number } | null;

/** What the reminder rule decides from; every field comes from the shared store, none from process memory. */
export interface StreakFacts {
  /** Failures in a row, this one included (the store's `consecutiveFailures`). */
  consecutiveFailures: number;
  /** The job's threshold: the streak's first message goes out at this count. */
  failuresBeforeAlert: number;
  /** When this failure finished. */
  failedAt: Date;
  /** When the streak's first failure finished; null when unknown. */
  streakStartedAt: Date | null;
  /** When the streak's previous failure finished; null for the first failure or when unknown. */
  previousFailureAt: Date | null;
}

/** The message a failure earns: the streak's first, the n-th reminder, or none. */
export type FailureDecision = { kind: 'failure' } | { kind: 'reminder'; reminder: number } | null;

/**
 * The one rule, a pure function of store-kept facts, so whichever runner reports a failure
 * decides the same:
 * - the failure whose count reaches `failuresBeforeAlert` sends the streak's message;
 * - `{ everyFailures: k }`: a reminder every k failures after it;
 * - `{ everyMs: r }`: reminders fall due at `streakStartedAt + k·r` (k = 1, 2, …); the first failure
 *   at or after a due instant sends reminder k. A streak with failures further apart than r sends
 *   one reminder per failure, never a burst for the instants it slept through.
 */
export function decideFailureMessage(facts: StreakFacts, rule: ReminderRule): FailureDecision {
  const { consecutiveFailures: n, failuresBeforeAlert: threshold } = facts;
  if (n < threshold) return null;
  if (n === threshold) return { kind: 'failure' };
  if (rule === null) return null;
  if ('everyFailures' in rule) {
    const since = n - threshold;
    return since % rule.everyFailures === 0 ? { kind: 'reminder', reminder: since / rule.everyFailures } : null;
  }
  const { streakStartedAt: start, previousFailureAt: previous } = facts;
  if (start === null || previous === null) return null;
  const window = (at: Date) => Math.floor((at.getTime() - start.getTime()) / rule.everyMs);
  const current = window(facts.failedAt);
  return current >= 1 && current > window(previous) ? { kind: 'reminder', reminder: current } : null;
}

const ENDED: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'interrupted'];
const PAGE = 1000;
// Streak starts remembered per process (a cache of what the store says, bounded for 100,000 schedules).
const MAX_REMEMBERED = 10_000;

/** Where a streak began and its previous failure, read from the store's run log. */
export interface StreakTimes {
  streakStartedAt: Date | null;
  previousFailureAt: Date | null;
}

/** Reads {@link StreakTimes} for the run just finished: a failure (the streak's latest) or the success that ended it. */
export type StreakReader = (current: RunRecord, failures: number) => Promise<StreakTimes>;

/**
 * Reads a streak's start and previous failure from the shared run log: the streak is the
 * `failures` newest failed runs of the schedule, up to its latest success. The start is found
 * once per streak (one query per 1,000 failures) and then remembered: it never changes while
 * the streak lasts, and each later call checks with one small query that no success came since.
 * So a runner that restarts, or another runner, reads the same start from the store.
 */
export function createRunLogStreaks(store: Store): StreakReader {
  const starts = new Map<string, { firstRun: RunRecord; at: Date }>();

  return async function streakTimes(current, failures) {
    const ref = { code: current.code, key: current.key };
    const id = `${ref.code}\u0000${ref.key}`;
    const failed = current.status !== 'succeeded';
    let previousFailureAt: Date | null = null;
    if (failed && failures > 1) {
      const recent = await store.queryRuns({ ...ref, status: ENDED, limit: 2 });
      previousFailureAt = finishedOf(recent.runs.find((r) => r.id !== current.id && r.status !== 'succeeded'));
    }
    const known = starts.get(id);
    if (known) {
      const since = await store.queryRuns({ ...ref, status: 'succeeded', since: known.firstRun.startedAt, limit: 2 });
      if (since.runs.every((r) => r.id === current.id)) {
        if (!failed) starts.delete(id);
        return { streakStartedAt: known.at, previousFailureAt };
      }
      starts.delete(id);
    }
    const streak: RunRecord[] = failed ? [current] : [];
    let cursor: string | null | undefined;
    do {
      const page = await store.queryRuns({ ...ref, status: ENDED, limit: Math.min(PAGE, failures + 1), ...(cursor ? { cursor } : {}) });
      streak.push(...page.runs.filter((r) => r.id !== current.id));
      cursor = page.nextCursor;
    } while (cursor !== null && streak.length < failures);
    const start = oldestOfStreak(streak, failures);
    if (failed && start?.finishedAt) {
      if (starts.size >= MAX_REMEMBERED) starts.delete(starts.keys().next().value as string);
      starts.set(id, { firstRun: start, at: start.finishedAt });
    }
    return { streakStartedAt: finishedOf(start), previousFailureAt };
  };
}

// The streak's failures are the newest ones up to the first success; with parallel runs the log's
// start order may differ from the finish order the store counted in, so the earliest finish wins.
function oldestOfStreak(runs: readonly RunRecord[], count: number): RunRecord | null {
  let oldest: RunRecord | null = null;
  for (const r of runs.slice(0, count)) {
    if (r.status === 'succeeded') break;
    if (r.finishedAt && (!oldest || (oldest.finishedAt as Date).getTime() > r.finishedAt.getTime())) oldest = r;
  }
  return oldest;
}

function finishedOf(run: RunRecord | null | undefined): Date | null {
  return run?.finishedAt ?? null;
}
