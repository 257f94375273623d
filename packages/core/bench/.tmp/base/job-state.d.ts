import type { JobState, ScheduleRef } from './store.js';
/** The state of a schedule no runner has claimed yet, as a store's `ensureStates` creates it. */
export declare function initialJobState(ref: ScheduleRef, now: Date): JobState;
//# sourceMappingURL=job-state.d.ts.map