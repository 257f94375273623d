import { DEFAULT_SCHEDULE_KEY, MAX_SCHEDULES_PER_CALL, type Store } from '@tickwork/core';
import { unseenState, viewJob, type JobView } from '../job-view.js';
import { statusColour } from '../output/colour.js';
import { relativeTime } from '../output/relative-time.js';
import { renderTable } from '../output/table.js';
import type { Session } from '../session.js';

/** The document `tickwork list --json` prints. */
export interface ListJson {
  now: string;
  jobs: JobView[];
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

/** `tickwork list`: every configured job with its stored state and runtime schedule count; reads only. */
export async function listCommand(session: Session, flags: { json?: boolean }): Promise<number> {
  const registry = await session.registry();
  const timezone = await session.timezone();
  const store = await session.store();
  const now = session.clock.now();
  const refs = registry.jobs.map((job) => ({ code: job.code, key: DEFAULT_SCHEDULE_KEY }));
  const states = new Map((await store.getStates(refs)).map((state) => [state.code, state]));
  const counts = await countSchedules(store);
  const views = registry.jobs.map((job) => viewJob(job, states.get(job.code) ?? unseenState(job.code, now), counts.get(job.code) ?? 0, timezone, now));

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
    !v.enabled ? palette.dim('disabled') : v.nextRunAt ? relativeTime(new Date(v.nextRunAt), now) : palette.dim('—'),
    v.lastRunAt ? `${relativeTime(new Date(v.lastRunAt), now)} ${statusColour(palette, v.lastStatus ?? '')(v.lastStatus ?? '')}` : palette.dim('never'),
    v.paused ? palette.yellow(`paused${v.pausedNote ? `: ${v.pausedNote}` : ''}`) : '',
    v.consecutiveFailures > 0 ? palette.red(String(v.consecutiveFailures)) : '0',
    String(v.runtimeSchedules),
  ]);
  session.out(
    renderTable(
      [{ header: 'JOB' }, { header: 'SCHEDULE' }, { header: 'TZ' }, { header: 'NEXT' }, { header: 'LAST' }, { header: 'PAUSED' }, { header: 'FAILURES', align: 'right' }, { header: 'RUNTIME SCHEDULES', align: 'right' }],
      rows,
    ),
  );
  return 0;
}
