import type { DstPolicy, ScheduleInput } from './spec.js';
/** What a job adds to the schedules it runs on, where a schedule does not say it itself. */
export interface ScheduleBinding {
    /** The text a cron expression's `H` values are hashed from: the job code, plus the key of a runtime schedule. */
    hashSeed?: string;
    /** The job's DST policy. */
    dst?: DstPolicy | null;
}
/**
 * `input` with the binding's hash seed (a cron with `H` and no `hashSeed`) and DST policy (a cron
 * or daily schedule with no `dst`) written into the spec, so that the spec alone — which every
 * cache of compiled schedules is keyed by — decides the slots. Returns `input` itself when
 * nothing applies.
 */
export declare function bindSchedule(input: ScheduleInput, binding: ScheduleBinding): ScheduleInput;
/** The seed of a schedule's `H` values: the job code, then the runtime schedule's key (none for the job's own). */
export declare function hashSeedOf(code: string, key: string): string;
//# sourceMappingURL=bind.d.ts.map