import { DAY_MS } from './wall-clock.js';
/** Offset changes shape the slots for at most this long after them (a gap or overlap is shorter than the largest offset difference, 26 h). */
const REACH = 2 * DAY_MS;
/** The first slot strictly after `after` of a wall-clock schedule in `zone` under `policy`. */
export function nextZoned(matcher, zone, policy, after) {
    // The matcher's last answer: nextAfter(knownFrom) = knownWall, so a query in [knownFrom, knownWall)
    // has the same answer; periods crossed on the way to a far slot then cost no new search.
    let knownFrom = Number.NaN;
    let knownWall = null;
    let from = after + 1;
    let offset = zone.offsetAt(from);
    // Most searches start far from any change: the stretch of constant offset began long before.
    let change = zone.periodStart(from) <= from - REACH || zone.offsetAt(from - REACH) === offset ? null : recentChange(zone, from);
    for (;;) {
        const end = zone.periodEnd(from);
        let best = change === null ? null : gapSlot(matcher, policy.gap, change, after);
        let low = from;
        if (change !== null && policy.overlap === 'first' && change.before > change.after) {
            // The wall times just after a fall-back occurred once already, before it.
            low = Math.max(low, change.at + change.before - change.after);
        }
        let high = end;
        if (policy.overlap === 'last') {
            // The wall times just before a fall-back occur again after it.
            const next = upcomingChange(zone, from, end);
            if (next !== null && next.after < offset)
                high = Math.min(end, next.at - (offset - next.after));
        }
        if (low < high && (best === null || low < best)) {
            const query = low - 1 + offset;
            if (!(query >= knownFrom && (knownWall === null || query < knownWall))) {
                knownFrom = query;
                knownWall = matcher.nextAfter(query);
            }
            if (knownWall === null)
                return best;
            const instant = knownWall - offset;
            if (instant < high && (best === null || instant < best))
                best = instant;
        }
        if (best !== null)
            return best;
        const nextOffset = zone.offsetAt(end);
        if (nextOffset !== offset)
            change = { at: end, before: offset, after: nextOffset };
        from = end;
        offset = nextOffset;
    }
}
/** The slot a spring-forward gap adds after `after` under `gap`, or null. */
function gapSlot(matcher, gap, change, after) {
    if (change.after <= change.before || gap === 'skip')
        return null;
    const start = change.at + change.before; // the first skipped wall time
    const end = change.at + change.after; // the first wall time after the gap
    if (gap === 'next-instant') {
        if (change.at <= after)
            return null;
        const wall = matcher.nextAfter(start - 1);
        return wall !== null && wall < end ? change.at : null;
    }
    // shift: a skipped wall time runs at the instant it would have had without the change.
    const wall = matcher.nextAfter(Math.max(start - 1, after + change.before));
    return wall !== null && wall < end ? wall - change.before : null;
}
/** The latest offset change in (t - REACH, t], or null. */
function recentChange(zone, t) {
    let at = zone.transitionAfter(t - REACH, t + 1);
    if (at === null)
        return null;
    for (let later = zone.transitionAfter(at, t + 1); later !== null; later = zone.transitionAfter(later, t + 1))
        at = later;
    return { at, before: zone.offsetAt(at - 1), after: zone.offsetAt(at) };
}
/** The first offset change at or after `end` (the end of the period holding `from`) within REACH, or null. */
function upcomingChange(zone, from, end) {
    const at = zone.transitionAfter(from, end + REACH);
    return at === null ? null : { at, before: zone.offsetAt(at - 1), after: zone.offsetAt(at) };
}
//# sourceMappingURL=zoned.js.map