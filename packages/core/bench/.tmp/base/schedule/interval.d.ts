/** Slot arithmetic of absolute-time schedules: `every` (anchor + n × interval) and `once`. */
/** The largest instant a Date can hold. */
export declare const MAX_INSTANT = 8640000000000000;
/** The first slot anchor + n × everyMs strictly after `after`, or null past the Date range. */
export declare function nextEvery(everyMs: number, anchor: number, after: number): number | null;
/** The latest slot anchor + n × everyMs with notBefore < slot ≤ atOrBefore, or null. */
export declare function previousEvery(everyMs: number, anchor: number, atOrBefore: number, notBefore: number): number | null;
//# sourceMappingURL=interval.d.ts.map