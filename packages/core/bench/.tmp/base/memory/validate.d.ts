import { type FinalRunStatus, type OverlapPolicy, type RunStatus, type RunTrigger, type ScheduleRef } from '../store.js';
/** A schedule reference: non-empty string code, string key. */
export declare function checkRef(ref: unknown, where: string): asserts ref is ScheduleRef;
/** A valid Date. */
export declare function checkDate(value: unknown, where: string): asserts value is Date;
/** An integer within `min … max`. */
export declare function checkInteger(value: unknown, where: string, min: number, max?: number): asserts value is number;
/** A lease length: a positive finite number of milliseconds. */
export declare function checkLeaseMs(value: unknown, where: string): asserts value is number;
/** A claim trigger. */
export declare function checkTrigger(value: unknown, where: string): asserts value is RunTrigger;
/** An overlap policy. */
export declare function checkOverlap(value: unknown, where: string): asserts value is OverlapPolicy;
/** A status a run can be completed with. */
export declare function checkFinalStatus(value: unknown, where: string): asserts value is FinalRunStatus;
/** A run status filter: one status or a list of them. */
export declare function checkStatusFilter(value: unknown, where: string): asserts value is RunStatus | readonly RunStatus[];
/** A list of job codes. */
export declare function checkCodes(value: unknown, where: string): asserts value is readonly string[];
/** An optional string or null (messages, notes, requestedBy). */
export declare function checkOptionalText(value: unknown, where: string): asserts value is string | null | undefined;
/** A list argument. */
export declare function checkList(value: unknown, where: string): asserts value is readonly unknown[];
/** Throws the memory store's InvalidArgumentError for a failed check done elsewhere. */
export declare function invalid(where: string, message: string): never;
//# sourceMappingURL=validate.d.ts.map