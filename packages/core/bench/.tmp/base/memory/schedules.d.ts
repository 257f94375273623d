import { type RuntimeSchedule, type ScheduleQuery, type SchedulePage } from '../runtime-schedule.js';
import type { ScheduleRef } from '../store.js';
import { type MemoryData, type StoredSchedule } from './backend.js';
/** The record a caller receives for a stored schedule. */
export declare function scheduleRecord(stored: StoredSchedule): RuntimeSchedule;
/** Validated runtime-schedule refs (key ≠ ''), at most the per-call limit. */
export declare function checkScheduleRefs(refs: unknown, where: string): readonly ScheduleRef[];
/** Upserts, all or nothing (validation first); returns the records and the refs that changed. */
export declare function upsertSchedules(data: MemoryData, inputs: unknown, now: Date): {
    records: RuntimeSchedule[];
    changed: ScheduleRef[];
};
/** Removes schedules with their states and pending requests; running runs stay. */
export declare function removeSchedules(data: MemoryData, refs: readonly ScheduleRef[]): boolean[];
/** One page of schedules ordered by code, then key. */
export declare function listSchedules(data: MemoryData, query: ScheduleQuery): SchedulePage;
/** Changes with every create, change and removal: the last version handed out and the removal count. */
export declare function schedulesRevision(data: MemoryData): string;
//# sourceMappingURL=schedules.d.ts.map