import { createScheduler, type DstPolicy, type Job, type JobRegistry, type JobSchedules } from '@tickwork/core';
import { assertScheduleKey } from '@tickwork/core/store';
import { normaliseSchedule, ScheduleCache } from '@tickwork/core/runner';
import { CliUsageError } from '../errors.js';
import { formatInstant, relativeTime } from '../output/relative-time.js';
import { definitionFromFlags, type ScheduleSetFlags } from '../schedule-definition.js';
import { describeOptions, type ScheduleView } from '../schedule-view.js';
import type { Session } from '../session.js';
import { viewSchedules } from './schedules.js';

/** What `schedule set` did: created the schedule, replaced a different definition, or found the same one. */
export type ScheduleChange = 'created' | 'changed' | 'unchanged';

/** The document `tickwork schedule set --json` prints. */
export interface ScheduleSetJson {
  change: ScheduleChange;
  /** The version before the upsert; null when created. */
  previousVersion: number | null;
  schedule: ScheduleView;
}

/** Checks a job code and a schedule key without opening the store: bad input touches nothing. */
async function target(session: Session, code: string, key: string): Promise<{ registry: JobRegistry; job: Job }> {
  const registry = await session.registry();
  const job = registry.get(code); // unknown code: exit 2 listing the known ones
  assertScheduleKey(key, `job "${code}"`);
  return { registry, job };
}

/** The management API of one job's runtime schedules, over the configured store. */
async function schedulesOf(session: Session, registry: JobRegistry, code: string): Promise<JobSchedules> {
  const store = await session.store();
  return createScheduler({ jobs: registry, store, clock: session.clock, timezone: await session.timezone() }).schedules(code);
}

/**
 * `tickwork schedule set <job> <key> …`: creates or replaces one runtime schedule (the whole
 * definition: flags left out take their defaults) and prints what the store holds.
 */
export async function scheduleSetCommand(session: Session, code: string, key: string, flags: ScheduleSetFlags): Promise<number> {
  const { registry, job } = await target(session, code, key);
  const timezone = await session.timezone();
  const definition = definitionFromFlags(code, key, flags);
  normaliseSchedule(job, definition, timezone); // every check core makes, before the store is opened
  const schedules = await schedulesOf(session, registry, code);
  // Read, then upsert: a concurrent writer between the two can only make the label stale, never the data.
  const before = await schedules.get(key);
  const stored = await schedules.upsert(definition);
  const change: ScheduleChange = before === null ? 'created' : before.version === stored.version ? 'unchanged' : 'changed';
  const planning = { cache: new ScheduleCache(timezone), timezone, now: session.clock.now() };
  const [view] = await viewSchedules(await session.store(), job, [stored], planning);
  const shown = view as ScheduleView;

  if (flags.json) {
    const json: ScheduleSetJson = { change, previousVersion: before?.version ?? null, schedule: shown };
    session.out(`${JSON.stringify(json, null, 2)}\n`);
    return 0;
  }
  const headline =
    change === 'created'
      ? `created runtime schedule "${key}" of job "${code}" (version ${stored.version})`
      : change === 'changed'
        ? `changed runtime schedule "${key}" of job "${code}" (version ${before?.version} → ${stored.version})`
        : `unchanged: runtime schedule "${key}" of job "${code}" already had this definition (version ${stored.version})`;
  session.out(`${headline}\n${describeView(shown, planning.now)}`);
  return 0;
}

/** `tickwork schedule rm <job> <key>`: removes one runtime schedule; exit 2 when there is none. */
export async function scheduleRemoveCommand(session: Session, code: string, key: string): Promise<number> {
  const schedules = await schedulesOf(session, (await target(session, code, key)).registry, code);
  if (!(await schedules.remove(key))) {
    throw new CliUsageError(
      `job "${code}": no runtime schedule with key "${key}"; nothing removed (\`tickwork schedules ${code}\` lists them)`,
    );
  }
  session.out(`removed runtime schedule "${key}" of job "${code}"; a run already started finishes and is logged\n`);
  return 0;
}

/** `tickwork schedule pause|resume <job> <key>`: the schedule's state, as `pause`/`resume` do for a job's own schedule. */
export async function schedulePauseCommand(
  session: Session,
  action: 'pause' | 'resume',
  code: string,
  key: string,
  flags: { note?: string },
): Promise<number> {
  const schedules = await schedulesOf(session, (await target(session, code, key)).registry, code);
  if (action === 'resume') {
    await schedules.resume(key);
    session.out(`resumed runtime schedule "${key}" of job "${code}"; slots missed while paused are not caught up\n`);
    return 0;
  }
  const state = await schedules.pause(key, flags.note !== undefined ? { note: flags.note } : {});
  session.out(
    `paused runtime schedule "${key}" of job "${code}"${state.pausedNote ? ` (${state.pausedNote})` : ''}; ` +
      `its slots are not run until \`tickwork schedule resume ${code} ${key}\`\n`,
  );
  return 0;
}

/** A schedule's own DST policy in words; its absent fields take the job's, else the schedule kind's default. */
function describeDst(dst: DstPolicy | undefined): string {
  const parts = [dst?.gap && `gap ${dst.gap}`, dst?.overlap && `overlap ${dst.overlap}`].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : "— (the job's, else the default)";
}

/** The stored schedule, one field a line. */
function describeView(v: ScheduleView, now: Date): string {
  const instant = (iso: string | null) => (iso ? `${formatInstant(new Date(iso))} (${relativeTime(new Date(iso), now)})` : '—');
  const fields: [string, string][] = [
    ['schedule', v.schedule + (v.scheduleOverridden ? ' (override)' : '')],
    ['timezone', v.timezone],
    ['enabled', v.enabled ? 'yes' : 'no'],
    ['paused', v.paused ? `yes${v.pausedNote ? `: ${v.pausedNote}` : ''}` : 'no'],
    ['next run', instant(v.nextRunAt)],
    ...(v.maxRuns === null
      ? []
      : [
          [
            'runs',
            `${v.scheduledRuns} of at most ${v.maxRuns} scheduled (${v.remainingRuns === 0 ? 'ended' : `${v.remainingRuns} left`})`,
          ] as [string, string],
        ]),
    ['start at', instant(v.startAt)],
    ['expires at', instant(v.expiresAt)],
    ['description', v.description ?? '—'],
    ['payload', v.payload === null ? '—' : JSON.stringify(v.payload)],
    ['options', describeOptions(v.options) || "— (the job's)"],
    ...(v.spec.kind === 'cron' || v.spec.kind === 'daily' ? [['dst', describeDst(v.spec.dst)] as [string, string]] : []),
  ];
  return fields.map(([name, value]) => `  ${name.padEnd(12)}${value}\n`).join('');
}
