import { InvalidArgumentError, InvalidScheduleError } from '../errors.js';
import { closest } from '../suggest.js';
import { parseCron } from './cron.js';
import { parseDaily } from './daily.js';
import { describeCron, describeDaily, describeEvery } from './describe.js';
import { MAX_INSTANT, nextEvery, previousEvery } from './interval.js';
import { zoneRules } from './timezone.js';
import { nextZoned } from './zoned.js';
/** Wall-clock searches start no earlier than 1000-01-01T00:00:00Z: older calendars (and Intl's era handling) are out of scope. */
const FIRST_INSTANT = Date.UTC(1000, 0, 1);
const SOURCE = Symbol('tickwork.slotSource');
/** The fields each spec kind has; any other is refused. */
const SPEC_FIELDS = {
    every: ['kind', 'everyMs', 'anchor'],
    daily: ['kind', 'times', 'weekdays', 'monthDays', 'timezone', 'dst'],
    cron: ['kind', 'expression', 'timezone', 'dst', 'hashSeed'],
    once: ['kind', 'at'],
};
/** Validates `input` and binds it to a timezone. Throws InvalidScheduleError naming `what` and the field. */
export function compileSchedule(input, options = {}) {
    const what = options.what ?? 'schedule';
    const spec = typeof input === 'string' ? { kind: 'cron', expression: input } : input;
    if (spec === null || typeof spec !== 'object') {
        throw new InvalidScheduleError(`${what}: expected a cron expression or a schedule spec, got ${spec === null ? 'null' : typeof spec}`);
    }
    const kind = spec.kind;
    const fields = SPEC_FIELDS[kind];
    if (fields) {
        // A misspelt field would otherwise be ignored silently ("timezon": the schedule runs in UTC).
        for (const field of Object.keys(spec)) {
            if (!fields.includes(field)) {
                const hint = closest(field, fields);
                throw new InvalidScheduleError(`${what}: "${field}" is not a field of a "${String(kind)}" schedule (fields: ${fields.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
            }
        }
    }
    switch (kind) {
        case 'every':
            return compileEvery(spec, what);
        case 'once':
            return compileOnce(spec, what);
        case 'daily':
        case 'cron':
            return compileWallClock(spec, options, what);
        default:
            throw new InvalidScheduleError(`${what}: kind ${JSON.stringify(kind)} is not one of "every", "daily", "cron", "once"`);
    }
}
function compileEvery(spec, what) {
    const { everyMs } = spec;
    if (typeof everyMs !== 'number' || !Number.isInteger(everyMs) || everyMs <= 0 || everyMs > MAX_INSTANT) {
        throw new InvalidScheduleError(`${what}: everyMs must be a positive whole number of milliseconds, got ${typeof everyMs === 'number' ? String(everyMs) : JSON.stringify(everyMs) ?? String(everyMs)}`);
    }
    const anchor = spec.anchor === undefined ? 0 : instant(spec.anchor, `${what}: anchor`);
    const frozen = Object.freeze({ kind: 'every', everyMs, ...(spec.anchor !== undefined ? { anchor: spec.anchor } : {}) });
    return build(frozen, 'UTC', 'absolute', null, describeEvery(everyMs, anchor), {
        next: (after) => nextEvery(everyMs, anchor, after),
        previous: (atOrBefore, notBefore) => previousEvery(everyMs, anchor, atOrBefore, notBefore),
    });
}
function compileOnce(spec, what) {
    const at = instant(spec.at, `${what}: at`);
    const frozen = Object.freeze({ kind: 'once', at: spec.at });
    return build(frozen, 'UTC', 'absolute', null, `once at ${new Date(at).toISOString()}`, {
        next: (after) => (at > after ? at : null),
        previous: (atOrBefore, notBefore) => (at <= atOrBefore && at > notBefore ? at : null),
    });
}
function compileWallClock(spec, options, what) {
    const timezone = spec.timezone ?? options.timezone ?? 'UTC';
    const zone = zoneRules(timezone, what);
    let matcher;
    let realTime;
    let frozen;
    let description;
    if (spec.kind === 'cron') {
        if (spec.hashSeed !== undefined && typeof spec.hashSeed !== 'string') {
            throw new InvalidScheduleError(`${what}: hashSeed must be a string, got ${JSON.stringify(spec.hashSeed) ?? String(spec.hashSeed)}`);
        }
        const parsed = parseCron(spec.expression, what, spec.hashSeed);
        matcher = parsed.matcher;
        realTime = parsed.followsRealTime;
        frozen = Object.freeze({ ...spec, ...(spec.dst ? { dst: Object.freeze({ ...spec.dst }) } : {}) });
        description = describeCron(parsed, spec.expression, timezone);
    }
    else {
        const parsed = parseDaily(spec, what);
        matcher = parsed.matcher;
        realTime = false;
        frozen = Object.freeze({
            ...spec,
            times: Object.freeze([...parsed.times]),
            ...(parsed.weekdays ? { weekdays: Object.freeze([...parsed.weekdays]) } : {}),
            ...(parsed.monthDays ? { monthDays: Object.freeze([...parsed.monthDays]) } : {}),
            ...(spec.dst ? { dst: Object.freeze({ ...spec.dst }) } : {}),
        });
        description = describeDaily(parsed, timezone);
    }
    const dst = resolveDstPolicy(spec.dst, realTime, `${what}: dst`);
    const find = zone.isUtc ? (after) => matcher.nextAfter(after) : (after) => nextZoned(matcher, zone, dst, after);
    // Wall-clock slots are searched from year 1000 to LAST_YEAR; earlier inputs search from 1000.
    const next = (after) => find(Math.max(after, FIRST_INSTANT));
    return build(frozen, timezone, realTime ? 'real-time' : 'fixed-time', dst, description, {
        next,
        previous: (atOrBefore, notBefore) => searchBackwards(next, atOrBefore, notBefore),
    });
}
const GAP_POLICIES = ['next-instant', 'shift', 'skip'];
const OVERLAP_POLICIES = ['first', 'last', 'both'];
/**
 * A DST policy with defaults filled in: Vixie cron's rule (`next-instant` + `first`) for a
 * fixed-time schedule, real time (`skip` + `both`) for a cron with a `*` / `*\/n` hour.
 * Throws InvalidScheduleError naming `what` and the field.
 */
export function resolveDstPolicy(input, realTime, what) {
    const defaults = realTime ? { gap: 'skip', overlap: 'both' } : { gap: 'next-instant', overlap: 'first' };
    if (input === undefined)
        return defaults;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw new InvalidScheduleError(`${what} must be an object { gap?, overlap? }, got ${JSON.stringify(input) ?? String(input)}`);
    }
    for (const field of Object.keys(input)) {
        if (field !== 'gap' && field !== 'overlap') {
            const hint = closest(field, ['gap', 'overlap']);
            throw new InvalidScheduleError(`${what}: "${field}" is not a field of a DST policy (fields: gap, overlap)${hint ? `; did you mean "${hint}"?` : ''}`);
        }
    }
    const { gap, overlap } = input;
    if (gap !== undefined && !GAP_POLICIES.includes(gap)) {
        throw new InvalidScheduleError(`${what}.gap must be one of ${GAP_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(gap) ?? String(gap)}`);
    }
    if (overlap !== undefined && !OVERLAP_POLICIES.includes(overlap)) {
        throw new InvalidScheduleError(`${what}.overlap must be one of ${OVERLAP_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(overlap) ?? String(overlap)}`);
    }
    return { gap: gap ?? defaults.gap, overlap: overlap ?? defaults.overlap };
}
function build(spec, timezone, dstRule, dst, description, source) {
    const compiled = {
        spec,
        timezone,
        dstRule,
        dst: dst && Object.freeze(dst),
        [SOURCE]: source,
        next(after) {
            const slot = source.next(time(after, 'after'));
            return slot === null ? null : new Date(slot);
        },
        describe: () => description,
    };
    return Object.freeze(compiled);
}
/**
 * The latest slot in (notBefore, atOrBefore] using only forward search: windows ending
 * at `atOrBefore` that double until one holds a slot, then bisection inside it. Costs
 * O(log(distance)) forward searches however dense the schedule and however far back
 * `notBefore` lies.
 */
function searchBackwards(next, atOrBefore, notBefore) {
    let high = atOrBefore;
    let width = 1000;
    let low;
    for (;;) {
        if (high <= notBefore)
            return null;
        low = Math.max(notBefore, high - width);
        const slot = next(low);
        if (slot === null)
            return null;
        if (slot <= high)
            break;
        high = low;
        width *= 2;
    }
    // Invariant: a slot lies in (low, high]; shrink until the first slot after `low` is the last one.
    for (;;) {
        const first = next(low);
        const following = next(first);
        if (following === null || following > high)
            return first;
        const mid = low + Math.floor((high - low) / 2);
        const probe = next(mid);
        if (probe !== null && probe <= high)
            low = mid;
        else
            high = mid;
    }
}
function sourceOf(input) {
    const source = input[SOURCE];
    if (source === undefined)
        throw new InvalidArgumentError('schedule: expected a schedule returned by compileSchedule()');
    return source;
}
function time(value, name) {
    const ms = value instanceof Date ? value.getTime() : Number.NaN;
    if (Number.isNaN(ms))
        throw new InvalidArgumentError(`${name}: expected a valid Date, got ${String(value)}`);
    return ms;
}
function instant(value, what) {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms))
        throw new InvalidScheduleError(`${what}: ${JSON.stringify(value) ?? String(value)} is not an ISO-8601 instant`);
    return ms;
}
/** The first slot strictly after `after`, or null when the schedule has no more slots. */
export function nextSlot(schedule, after) {
    const slot = sourceOf(schedule).next(time(after, 'nextSlot(): after'));
    return slot === null ? null : new Date(slot);
}
/** Every slot `s` with `from < s ≤ to`, ascending, at most `limit` (default 10,000) of them. */
export function slotsBetween(schedule, from, to, limit = 10_000) {
    const source = sourceOf(schedule);
    if (!Number.isInteger(limit) || limit < 0)
        throw new InvalidArgumentError(`slotsBetween(): limit must be a whole number ≥ 0, got ${String(limit)}`);
    const end = time(to, 'slotsBetween(): to');
    const slots = [];
    let cursor = time(from, 'slotsBetween(): from');
    while (slots.length < limit) {
        const slot = source.next(cursor);
        if (slot === null || slot > end)
            break;
        slots.push(new Date(slot));
        cursor = slot;
    }
    return slots;
}
/** The latest slot `s` with `notBefore < s ≤ atOrBefore`, or null. */
export function previousSlot(schedule, atOrBefore, notBefore) {
    const slot = sourceOf(schedule).previous(time(atOrBefore, 'previousSlot(): atOrBefore'), time(notBefore, 'previousSlot(): notBefore'));
    return slot === null ? null : new Date(slot);
}
/** The schedule in words: "every 5 minutes", "at 06:00 and 18:30 on weekdays (Europe/Paris)". */
export function describeSchedule(schedule) {
    const compiled = SOURCE in schedule ? schedule : compileSchedule(schedule);
    return compiled.describe();
}
//# sourceMappingURL=engine.js.map