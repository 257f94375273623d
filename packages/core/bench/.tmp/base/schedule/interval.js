/** Slot arithmetic of absolute-time schedules: `every` (anchor + n × interval) and `once`. */
/** The largest instant a Date can hold. */
export const MAX_INSTANT = 8_640_000_000_000_000;
/** The first slot anchor + n × everyMs strictly after `after`, or null past the Date range. */
export function nextEvery(everyMs, anchor, after) {
    const slot = anchor + (Math.floor((after - anchor) / everyMs) + 1) * everyMs;
    return slot <= MAX_INSTANT ? slot : null;
}
/** The latest slot anchor + n × everyMs with notBefore < slot ≤ atOrBefore, or null. */
export function previousEvery(everyMs, anchor, atOrBefore, notBefore) {
    const slot = anchor + Math.floor((atOrBefore - anchor) / everyMs) * everyMs;
    return slot > notBefore && slot >= -MAX_INSTANT ? slot : null;
}
//# sourceMappingURL=interval.js.map