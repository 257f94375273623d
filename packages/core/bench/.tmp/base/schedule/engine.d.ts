import type { DstPolicy, ScheduleInput, ScheduleSpec } from './spec.js';
/** How a schedule's slots relate to DST changes. */
export type DstRule = 
/** Wall-clock times; gap times run once at the gap's end, repeated times once at their first occurrence. */
'fixed-time'
/** Wall-clock times at real cadence: gap times are skipped, repeated times run twice. */
 | 'real-time'
/** Absolute instants (`every`, `once`): DST does not apply. */
 | 'absolute';
/** A validated schedule bound to its timezone, ready for slot computation. */
export interface CompiledSchedule {
    /** The JSON spec it was compiled from (daily times sorted and de-duplicated). */
    readonly spec: ScheduleSpec;
    /** The IANA timezone slots are computed in ('UTC' for `every` and `once`). */
    readonly timezone: string;
    /** How DST changes affect the slots. */
    readonly dstRule: DstRule;
    /** The DST policy in force, defaults filled in (see {@link DstPolicy}); null for `every` and `once`. */
    readonly dst: Required<DstPolicy> | null;
    /** The first slot strictly after `after`, or null when the schedule has no more slots. */
    next(after: Date): Date | null;
    /** The schedule in words (see {@link describeSchedule}). */
    describe(): string;
}
/** Options of {@link compileSchedule}. */
export interface CompileOptions {
    /** Timezone used when the spec names none (default 'UTC'). */
    timezone?: string;
    /** What to call the schedule in error messages, e.g. `job "report": schedule`. */
    what?: string;
}
/** Validates `input` and binds it to a timezone. Throws InvalidScheduleError naming `what` and the field. */
export declare function compileSchedule(input: ScheduleInput, options?: CompileOptions): CompiledSchedule;
/**
 * A DST policy with defaults filled in: Vixie cron's rule (`next-instant` + `first`) for a
 * fixed-time schedule, real time (`skip` + `both`) for a cron with a `*` / `*\/n` hour.
 * Throws InvalidScheduleError naming `what` and the field.
 */
export declare function resolveDstPolicy(input: unknown, realTime: boolean, what: string): Required<DstPolicy>;
/** The first slot strictly after `after`, or null when the schedule has no more slots. */
export declare function nextSlot(schedule: CompiledSchedule, after: Date): Date | null;
/** Every slot `s` with `from < s ≤ to`, ascending, at most `limit` (default 10,000) of them. */
export declare function slotsBetween(schedule: CompiledSchedule, from: Date, to: Date, limit?: number): Date[];
/** The latest slot `s` with `notBefore < s ≤ atOrBefore`, or null. */
export declare function previousSlot(schedule: CompiledSchedule, atOrBefore: Date, notBefore: Date): Date | null;
/** The schedule in words: "every 5 minutes", "at 06:00 and 18:30 on weekdays (Europe/Paris)". */
export declare function describeSchedule(schedule: CompiledSchedule | ScheduleSpec): string;
//# sourceMappingURL=engine.d.ts.map