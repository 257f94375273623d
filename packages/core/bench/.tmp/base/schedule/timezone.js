import { InvalidScheduleError } from '../errors.js';
import { DAY_MS } from './wall-clock.js';
const UTC_NAMES = new Set(['UTC', 'ETC/UTC', 'GMT', 'ETC/GMT', 'UCT', 'ETC/UCT', 'ETC/UNIVERSAL', 'UNIVERSAL', 'ETC/ZULU', 'ZULU', 'ETC/GMT0', 'ETC/GMT+0', 'ETC/GMT-0', 'GMT0', 'GMT+0', 'GMT-0']);
const UTC_RULES = {
    name: 'UTC',
    isUtc: true,
    offsetAt: () => 0,
    periodEnd: () => Number.POSITIVE_INFINITY,
    periodStart: () => Number.NEGATIVE_INFINITY,
    transitionAfter: () => null,
};
// Zone rules are pure functions of the zone name and the tz database, so sharing them is safe.
const cache = new Map();
/** The rules of IANA zone `name`; throws InvalidScheduleError naming `what` and the timezone field. */
export function zoneRules(name, what) {
    const cached = cache.get(name);
    if (cached)
        return cached;
    if (typeof name !== 'string' || name.trim() === '') {
        throw new InvalidScheduleError(`${what}: timezone ${JSON.stringify(name)} is not an IANA timezone name (e.g. "Europe/Paris", "UTC")`);
    }
    let rules;
    if (UTC_NAMES.has(name.toUpperCase())) {
        rules = name === 'UTC' ? UTC_RULES : { ...UTC_RULES, name };
    }
    else {
        let format;
        try {
            format = new Intl.DateTimeFormat('en-US', {
                timeZone: name,
                hourCycle: 'h23',
                year: 'numeric',
                month: 'numeric',
                day: 'numeric',
                hour: 'numeric',
                minute: 'numeric',
                second: 'numeric',
            });
        }
        catch (error) {
            throw new InvalidScheduleError(`${what}: timezone "${name}" is not a known IANA timezone (e.g. "Europe/Paris", "UTC")`, { cause: error });
        }
        rules = intlRules(name, format);
    }
    cache.set(name, rules);
    return rules;
}
function intlRules(name, format) {
    const tables = new Map();
    let last = null;
    const intlOffset = (instant) => {
        let y = 0;
        let mo = 0;
        let d = 0;
        let h = 0;
        let mi = 0;
        let s = 0;
        for (const part of format.formatToParts(instant)) {
            const n = Number(part.value);
            switch (part.type) {
                case 'year':
                    y = n;
                    break;
                case 'month':
                    mo = n;
                    break;
                case 'day':
                    d = n;
                    break;
                case 'hour':
                    h = n;
                    break;
                case 'minute':
                    mi = n;
                    break;
                case 'second':
                    s = n;
                    break;
                default: break;
            }
        }
        const wall = new Date(0);
        wall.setUTCFullYear(y, mo - 1, d);
        wall.setUTCHours(h, mi, s, 0);
        return wall.getTime() - Math.floor(instant / 1000) * 1000;
    };
    const build = (year) => {
        const first = new Date(0);
        first.setUTCFullYear(year, 0, 1);
        const from = first.getTime();
        first.setUTCFullYear(year + 1, 0, 1);
        const end = first.getTime();
        const table = { start: from, end, starts: [from], offsets: [intlOffset(from)] };
        let previous = from;
        let previousOffset = table.offsets[0];
        for (let t = from + DAY_MS;; t += DAY_MS) {
            const probe = Math.min(t, end - 1000);
            const offset = intlOffset(probe);
            if (offset !== previousOffset) {
                // The first whole second with the new offset (tz transitions fall on whole seconds).
                let lo = previous;
                let hi = probe;
                while (hi - lo > 1000) {
                    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
                    if (intlOffset(mid) === previousOffset)
                        lo = mid;
                    else
                        hi = mid;
                }
                table.starts.push(hi);
                table.offsets.push(offset);
                previousOffset = offset;
            }
            previous = probe;
            if (probe >= end - 1000)
                break;
        }
        return table;
    };
    const tableFor = (instant) => {
        if (last !== null && instant >= last.start && instant < last.end)
            return last;
        // Clamped so that probes a day beyond the Date range still find a (boundary) table.
        const clamped = Math.min(Math.max(instant, -8.6e15), 8.6e15);
        // The UTC year from the mean Gregorian year, corrected by the table's bounds: no Date allocated.
        let year = Math.floor(clamped / 31_556_952_000) + 1970;
        let table;
        for (;;) {
            const known = tables.get(year);
            if (known === undefined) {
                table = build(year);
                tables.set(year, table);
            }
            else
                table = known;
            if (clamped < table.start)
                year -= 1;
            else if (clamped >= table.end)
                year += 1;
            else
                break;
        }
        last = table;
        return table;
    };
    const indexIn = (table, instant) => {
        let i = table.starts.length - 1;
        while (i > 0 && table.starts[i] > instant)
            i--;
        return i;
    };
    const rules = {
        name,
        isUtc: false,
        offsetAt(instant) {
            const table = tableFor(instant);
            return table.offsets[indexIn(table, instant)];
        },
        periodEnd(instant) {
            const table = tableFor(instant);
            const i = indexIn(table, instant);
            return i + 1 < table.starts.length ? table.starts[i + 1] : table.end;
        },
        periodStart(instant) {
            const table = tableFor(instant);
            return table.starts[indexIn(table, instant)];
        },
        transitionAfter(instant, limit) {
            const offset = rules.offsetAt(instant);
            let t = rules.periodEnd(instant);
            while (t < limit && rules.offsetAt(t) === offset)
                t = rules.periodEnd(t);
            return t < limit ? t : null;
        },
    };
    return rules;
}
//# sourceMappingURL=timezone.js.map