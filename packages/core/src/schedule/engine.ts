// STUB — replaced by the schedule-engine work. Signatures are the contract.
import type { ScheduleInput, ScheduleSpec } from './spec.js';

/** A validated schedule bound to its timezone, ready for slot computation. */
export interface CompiledSchedule {
  /** The JSON spec it was compiled from. */
  readonly spec: ScheduleSpec;
  /** The IANA timezone slots are computed in ('UTC' for `every` and `once`). */
  readonly timezone: string;
}

/** Options of {@link compileSchedule}. */
export interface CompileOptions {
  /** Timezone used when the spec names none (default 'UTC'). */
  timezone?: string;
  /** What to call the schedule in error messages, e.g. `job "report": schedule`. */
  what?: string;
}

/** Validates `input` and binds it to a timezone. Throws InvalidScheduleError naming `what` and the field. */
export function compileSchedule(input: ScheduleInput, options: CompileOptions = {}): CompiledSchedule {
  void input;
  void options;
  throw new Error('not implemented');
}

/** The first slot strictly after `after`, or null when the schedule has no more slots. */
export function nextSlot(schedule: CompiledSchedule, after: Date): Date | null {
  void schedule;
  void after;
  throw new Error('not implemented');
}

/** Every slot `s` with `from < s ≤ to`, ascending, at most `limit` (default 10,000) of them. */
export function slotsBetween(schedule: CompiledSchedule, from: Date, to: Date, limit?: number): Date[] {
  void schedule;
  void from;
  void to;
  void limit;
  throw new Error('not implemented');
}

/** The latest slot `s` with `notBefore < s ≤ atOrBefore`, or null. */
export function previousSlot(schedule: CompiledSchedule, atOrBefore: Date, notBefore: Date): Date | null {
  void schedule;
  void atOrBefore;
  void notBefore;
  throw new Error('not implemented');
}

/** The schedule in words: "every 5 minutes", "at 06:00 and 18:30 on weekdays (Europe/Paris)". */
export function describeSchedule(schedule: CompiledSchedule | ScheduleSpec): string {
  void schedule;
  throw new Error('not implemented');
}
