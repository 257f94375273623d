import type { Job, RuntimeSchedule, Store } from '@tickwork/core';
import { initialJobState, MAX_SCHEDULES_PER_CALL } from '@tickwork/core/store';
import { ScheduleCache } from '@tickwork/core/runner';
import { relativeTime } from '../output/relative-time.js';
import { statusColour } from '../output/colour.js';
import { renderTable } from '../output/table.js';
import { payloadSummary, viewSchedule, type Planning, type ScheduleView } from '../schedule-view.js';
import type { Session } from '../session.js';
import { nextCell } from './list.js';

/** The document `tickwork schedules <job> --json` prints. */
export interface SchedulesJson {
  now: string;
  code: string;
  /** Ordered by key. */
  schedules: ScheduleView[];
  /** True when `--limit` stopped the listing before the last schedule. */
  truncated: boolean;
}

/** Flags of `tickwork schedules`. */
export interface SchedulesFlags {
  json?: boolean;
  limit?: number;
}

/** Views of runtime schedules, with their states read in one call per page. */
export async function viewSchedules(
  store: Store,
  job: Job,
  schedules: readonly RuntimeSchedule[],
  planning: Planning,
): Promise<ScheduleView[]> {
  const states = new Map((await store.getStates(schedules)).map((state) => [state.key, state]));
  // A state is missing only when the schedule was removed between the two reads.
  return schedules.map((s) => viewSchedule(job, s, states.get(s.key) ?? initialJobState(s, s.createdAt), planning));
}

/**
 * `tickwork schedules <job>`: the job's runtime schedules, page by page through the store (all
 * of them unless `--limit`). JSON is written as each page arrives, so 100,000 schedules never sit
 * in memory at once; the text table is aligned over all rows, so it is printed at the end.
 */
export async function schedulesCommand(session: Session, code: string, flags: SchedulesFlags): Promise<number> {
  const registry = await session.registry();
  const job = registry.get(code); // unknown code: exit 2 listing the known ones, before touching the store
  const store = await session.store();
  const planning: Planning = {
    cache: new ScheduleCache(await session.timezone()),
    timezone: await session.timezone(),
    now: session.clock.now(),
  };
  const limit = flags.limit ?? Number.POSITIVE_INFINITY;
  const rows: string[][] = [];
  let count = 0;
  let cursor: string | null = null;
  if (flags.json)
    session.out(`{\n  "now": ${JSON.stringify(planning.now.toISOString())},\n  "code": ${JSON.stringify(code)},\n  "schedules": [`);
  do {
    const page = await store.listSchedules({ code, limit: Math.min(MAX_SCHEDULES_PER_CALL, limit - count), ...(cursor ? { cursor } : {}) });
    const views = await viewSchedules(store, job, page.schedules, planning);
    for (const view of views) {
      if (flags.json) session.out(`${count === 0 ? '' : ','}\n    ${JSON.stringify(view)}`);
      else rows.push(row(session, view, planning.now));
      count += 1;
    }
    cursor = page.nextCursor;
  } while (cursor !== null && count < limit);
  const truncated = cursor !== null;

  if (flags.json) {
    session.out(`${count === 0 ? '' : '\n  '}],\n  "truncated": ${truncated}\n}\n`);
    return 0;
  }
  if (count === 0) {
    session.out(`job "${code}" has no runtime schedules; create one with: tickwork schedule set ${code} KEY --cron "0 6 * * *"\n`);
    return 0;
  }
  session.out(
    renderTable(
      [
        { header: 'KEY' },
        { header: 'SCHEDULE' },
        { header: 'TZ' },
        { header: 'ENABLED' },
        { header: 'PAUSED' },
        { header: 'NEXT' },
        { header: 'LAST' },
        { header: 'PAYLOAD' },
      ],
      rows,
    ),
  );
  session.out(
    truncated
      ? `${count} runtime schedules shown (--limit ${count}); job "${code}" has more\n`
      : `${count} runtime schedule${count === 1 ? '' : 's'} of job "${code}"\n`,
  );
  return 0;
}

function row(session: Session, v: ScheduleView, now: Date): string[] {
  const { palette } = session;
  return [
    v.key,
    v.schedule + (v.scheduleOverridden ? ' (override)' : ''),
    v.timezone,
    v.enabled ? 'yes' : palette.dim('no'),
    v.paused ? palette.yellow(`paused${v.pausedNote ? `: ${v.pausedNote}` : ''}`) : '',
    nextCell(palette, v, now),
    v.lastRunAt
      ? `${relativeTime(new Date(v.lastRunAt), now)} ${statusColour(palette, v.lastStatus ?? '')(v.lastStatus ?? '')}`
      : palette.dim('never'),
    payloadSummary(v.payload),
  ];
}
