import { DEFAULT_SCHEDULE_KEY } from '@tickwork/core';
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

/** `tickwork list`: every configured job with its stored state; reads only. */
export async function listCommand(session: Session, flags: { json?: boolean }): Promise<number> {
  const registry = await session.registry();
  const timezone = await session.timezone();
  const store = await session.store();
  const now = session.clock.now();
  const refs = registry.jobs.map((job) => ({ code: job.code, key: DEFAULT_SCHEDULE_KEY }));
  const states = new Map((await store.getStates(refs)).map((state) => [state.code, state]));
  const views = registry.jobs.map((job) => viewJob(job, states.get(job.code) ?? unseenState(job.code, now), timezone, now));

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
    v.schedule + (v.scheduleOverridden ? ' (override)' : ''),
    v.timezone,
    !v.enabled ? palette.dim('disabled') : v.nextRunAt ? relativeTime(new Date(v.nextRunAt), now) : palette.dim('—'),
    v.lastRunAt ? `${relativeTime(new Date(v.lastRunAt), now)} ${statusColour(palette, v.lastStatus ?? '')(v.lastStatus ?? '')}` : palette.dim('never'),
    v.paused ? palette.yellow(`paused${v.pausedNote ? `: ${v.pausedNote}` : ''}`) : '',
    v.consecutiveFailures > 0 ? palette.red(String(v.consecutiveFailures)) : '0',
  ]);
  session.out(
    renderTable(
      [{ header: 'JOB' }, { header: 'SCHEDULE' }, { header: 'TZ' }, { header: 'NEXT' }, { header: 'LAST' }, { header: 'PAUSED' }, { header: 'FAILURES', align: 'right' }],
      rows,
    ),
  );
  return 0;
}
