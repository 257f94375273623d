import type { Job } from './job.js';
import { compileSchedule, nextSlot, type CompiledSchedule } from './schedule/engine.js';
import { MAX_PASSED_RANGES, type JobState, type PassedSlots, type SkipReason, type SkippedSlots } from './store.js';

/** Most slots counted for one claim's passed ranges; a longer stretch ends in one range whose count says "at least". */
export const MAX_COUNTED_PASSED_SLOTS = 1_000_000;

/** A stretch during which a runner could not reach its store. */
export interface StoreOutage {
  from: Date;
  to: Date;
}

/** Input of {@link passedSlots}. */
export interface PassedInput {
  job: Job;
  key: string;
  schedule: CompiledSchedule;
  state: JobState;
  /** The slot the claim is for: the passed slots lie before it. */
  slotAt: Date;
  /** Stretches the runner knows the store was unreachable in: passed slots inside one are `store-outage`. */
  outages?: readonly StoreOutage[];
}

/**
 * The slots a schedule claim of `slotAt` passes over, each with why it did not run, as
 * contiguous ranges; undefined when it passes over none. Every runner computes the same ones
 * from the same state; the store records them only for the claim that moves past them.
 */
export function passedSlots(input: PassedInput): PassedSlots | undefined {
  const { job, schedule, state, slotAt } = input;
  // Nothing before the store first met the schedule was owed (a first tick's look-back runs the latest, passing over none).
  const lo = state.lastSlotAt?.getTime() ?? state.createdAt.getTime();
  const endMs = slotAt.getTime();
  if (!(lo < endMs)) return undefined;
  const twin = gapTwin(schedule);
  const ranges: SkippedSlots[] = [];
  let open: { first: number; last: number; count: number; reason: SkipReason } | null = null;
  let counted = 0;
  let capped = false;
  const close = () => {
    if (!open) return;
    if (ranges.length < MAX_PASSED_RANGES) ranges.push(rangeOf(open, job, slotAt, capped));
    open = null;
  };
  const add = (ms: number, reason: SkipReason) => {
    if (open && open.reason === reason) {
      open.last = ms;
      open.count += 1;
      return;
    }
    close();
    open = { first: ms, last: ms, count: 1, reason };
  };
  // Walk the schedule's slots and (with gap policy skip) the slots the gap dropped, in order.
  let cursor = lo;
  let twinCursor = lo;
  let next = nextBefore(schedule, cursor, endMs);
  let dropped = twin ? nextDropped(schedule, twin, twinCursor, endMs) : null;
  while (next !== null || dropped !== null) {
    if (++counted > MAX_COUNTED_PASSED_SLOTS) {
      capped = true;
      break;
    }
    if (dropped !== null && (next === null || dropped < next)) {
      add(dropped, 'dst-gap');
      twinCursor = dropped;
      dropped = nextDropped(schedule, twin as CompiledSchedule, twinCursor, endMs);
      continue;
    }
    const ms = next as number;
    add(ms, reasonOf(job, state, ms, input.outages));
    cursor = ms;
    next = nextBefore(schedule, cursor, endMs);
  }
  close();
  return ranges.length === 0 ? undefined : { after: state.lastSlotAt, ranges };
}

function nextBefore(schedule: CompiledSchedule, afterMs: number, endMs: number): number | null {
  const slot = nextSlot(schedule, new Date(afterMs));
  return slot === null || slot.getTime() >= endMs ? null : slot.getTime();
}

/** The next slot after `afterMs` the `gap: 'next-instant'` twin has and the schedule itself does not. */
function nextDropped(schedule: CompiledSchedule, twin: CompiledSchedule, afterMs: number, endMs: number): number | null {
  for (let cursor = afterMs; ; ) {
    const slot = nextBefore(twin, cursor, endMs);
    if (slot === null) return null;
    const own = nextSlot(schedule, new Date(slot - 1));
    if (own === null || own.getTime() !== slot) return slot;
    cursor = slot;
  }
}

const twins = new WeakMap<CompiledSchedule, CompiledSchedule | null>();

/** For a schedule whose DST gap policy is `skip`, the same schedule with `next-instant`: its extra slots are the ones a gap dropped. */
function gapTwin(schedule: CompiledSchedule): CompiledSchedule | null {
  if (schedule.dst?.gap !== 'skip' || (schedule.spec.kind !== 'cron' && schedule.spec.kind !== 'daily')) return null;
  let twin = twins.get(schedule);
  if (twin === undefined) {
    twin = compileSchedule({ ...schedule.spec, dst: { ...schedule.dst, gap: 'next-instant' } }, { timezone: schedule.timezone });
    twins.set(schedule, twin);
  }
  return twin;
}

function reasonOf(job: Job, state: JobState, ms: number, outages: readonly StoreOutage[] | undefined): SkipReason {
  // Turning a runtime schedule's `enabled` back on sets its state's resumedAt and its updatedAt to the
  // same instant (a resume leaves updatedAt alone): every slot before that was passed over while disabled.
  // Checked before the window, whose floor a definition change also moves to updatedAt − grace.
  if (state.resumedAt && ms < state.resumedAt.getTime() && job.changedAt?.getTime() === state.resumedAt.getTime()) return 'disabled';
  if (job.startAt && ms < job.startAt.getTime()) return 'window';
  if (state.resumedAt && ms < state.resumedAt.getTime()) return 'paused';
  if (outages?.some((o) => o.from.getTime() <= ms && ms <= o.to.getTime())) return 'store-outage';
  return 'missed-run-policy';
}

function rangeOf(
  open: { first: number; last: number; count: number; reason: SkipReason },
  job: Job,
  slotAt: Date,
  capped: boolean,
): SkippedSlots {
  const count = capped ? `at least ${open.count}` : String(open.count);
  const slots = `${count} slot${open.count === 1 ? '' : 's'} from ${new Date(open.first).toISOString()} to ${new Date(open.last).toISOString()}`;
  return {
    firstSlotAt: new Date(open.first),
    lastSlotAt: new Date(open.last),
    count: open.count,
    reason: open.reason,
    message: `skipped ${slots}: ${because(open.reason, job, slotAt)}`,
  };
}

function because(reason: SkipReason, job: Job, slotAt: Date): string {
  const policy = job.missedRunPolicy;
  const name = typeof policy === 'object' ? `all (within ${policy.all.withinMs} ms)` : policy;
  const then = `missed-run policy ${name}`;
  switch (reason) {
    case 'window':
      return `before the job's startAt ${job.startAt?.toISOString()}`;
    case 'paused':
      return 'the schedule was paused';
    case 'disabled':
      return 'the schedule was disabled';
    case 'dst-gap':
      return "the local time did not exist (DST gap, dst.gap 'skip')";
    case 'store-outage':
      return `the store could not be reached; ${then}${typeof policy === 'object' ? ' (outside the backfill window)' : `, slot ${slotAt.toISOString()} runs instead`}`;
    default:
      return typeof policy === 'object'
        ? `${then}: outside the backfill window`
        : policy === 'skip'
          ? `${then}: not claimed within the grace after its instant`
          : `${then}: only the latest missed slot (${slotAt.toISOString()}) runs`;
  }
}
