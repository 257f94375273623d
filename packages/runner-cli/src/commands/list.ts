import { DEFAULT_SCHEDULE_KEY, type Store } from '@tickwork/core';
import { MAX_SCHEDULES_PER_CALL } from '@tickwork/core/store';
import { unseenState, viewJob, type JobView, type StateView } from '../job-view.js';
import { statusColour } from '../output/colour.js';
import { relativeTime } from '../output/relative-time.js';
import { renderTable } from '../output/table.js';
import type { Session } from '../session.js';

/** The document `tickwork list --json` prints. */
export interface ListJson {
  now: string;
  /** Each job, with its pending run-now requests (of its own schedule) counted. */
  jobs: Array<JobView & { pendingRequests: number }>;
}

/**
 * How many runtime schedules each job has: one pass over the store's pages (the contract has
 * no count), so `list` stays one line per job however many schedules there are.
 */
async function countSchedules(store: Store): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const page = await store.listSchedules({ limit: MAX_SCHEDULES_PER_CALL, ...(cursor ? { cursor } : {}) });
    for (const { code } of page.schedules) counts.set(code, (counts.get(code) ?? 0) + 1);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return counts;
}

/** The NEXT column of `list` and `schedules`: a slot waiting behind a running run (visibly), else when the next one is due. */
export function nextCell(palette: Session['palette'], v: StateView, now: Date): string {
  if (v.waitingSlotAt) return palette.yellow(`waiting: slot ${v.waitingSlotAt}`) + runsLeft(v);
  if (v.remainingRuns === 0 && !v.nextRunAt) return palette.dim(`ended: ${v.scheduledRuns} of ${v.maxRuns} runs`);
  return (v.nextRunAt ? relativeTime(new Date(v.nextRunAt), now) : palette.dim('—')) + runsLeft(v);
}

/** " (2 of 5 runs left)" for a limited schedule, '' otherwise. */
function runsLeft(v: StateView): string {
  return v.remainingRuns === null ? '' : ` (${v.remainingRuns} of ${v.maxRuns} run${v.maxRuns === 1 ? '' : 's'} left)`;
}

/**
 * The LAST SKIP column: why the latest skipped slot did not run, and when it was due (`tickwork logs --status
 * skipped --reason …` lists them).
 */
export function skipCell(palette: Session['palette'], v: StateView, now: Date): string {
  if (!v.lastSkipReason || !v.lastSkippedSlotAt) return palette.dim('—');
  return `${v.lastSkipReason} (slot ${relativeTime(new Date(v.lastSkippedSlotAt), now)})`;
}

/** `tickwork list`: every configured job with its stored state and runtime schedule count; reads only. */
export async function listCommand(session: Session, flags: { json?: boolean }): Promise<number> {
  const registry = await session.registry();
  const timezone = await session.timezone();
  const store = await session.store();
  const now = session.clock.now();
  const refs = registry.jobs.map((job) => ({ code: job.code, key: DEFAULT_SCHEDULE_KEY }));
  const states = new Map((await store.getStates(refs)).map((state) => [state.code, state]));
  const counts = await countSchedules(store);
  // Run-now requests wait until a runner can claim them (a paused job's stay pending): show them.
  const pending = new Map<string, number>();
  if (refs.length > 0) {
    for (const request of await store.pendingRunRequests({ codes: registry.codes() })) {
      if (request.key === DEFAULT_SCHEDULE_KEY) pending.set(request.code, (pending.get(request.code) ?? 0) + 1);
    }
  }
  const views = registry.jobs.map((job) => ({
    ...viewJob(job, states.get(job.code) ?? unseenState(job.code, now), counts.get(job.code) ?? 0, timezone, now),
    pendingRequests: pending.get(job.code) ?? 0,
  }));

  if (flags.json) {
    const json: ListJson = { now: now.toISOString(), jobs: views };
    session.out(`${JSON.stringify(json, null, 2)}\n`);
    return 0;
  }
  if (views.length === 0) {
    session.out('no jobs configured\n');
    return 0;
  }
  const { palette } = session;
  const rows = views.map((v) => [
    v.code,
    v.schedule === null ? palette.dim('runtime schedules only') : v.schedule + (v.scheduleOverridden ? ' (override)' : ''),
    v.timezone,
    (!v.enabled ? palette.dim('disabled') : nextCell(palette, v, now)) +
      (v.pendingRequests > 0 ? palette.yellow(` (+${v.pendingRequests} run-now pending)`) : ''),
    v.lastRunAt
      ? `${relativeTime(new Date(v.lastRunAt), now)} ${statusColour(palette, v.lastStatus ?? '')(v.lastStatus ?? '')}`
      : palette.dim('never'),
    v.paused ? palette.yellow(`paused${v.pausedNote ? `: ${v.pausedNote}` : ''}`) : '',
    v.consecutiveFailures > 0 ? palette.red(String(v.consecutiveFailures)) : '0',
    skipCell(palette, v, now),
    String(v.runtimeSchedules),
  ]);
  session.out(
    renderTable(
      [
        { header: 'JOB' },
        { header: 'SCHEDULE' },
        { header: 'TZ' },
        { header: 'NEXT' },
        { header: 'LAST' },
        { header: 'PAUSED' },
        { header: 'FAILURES', align: 'right' },
        { header: 'LAST SKIP' },
        { header: 'RUNTIME SCHEDULES', align: 'right' },
      ],
      rows,
    ),
  );
  return 0;
}
