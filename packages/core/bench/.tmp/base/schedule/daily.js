import { InvalidScheduleError } from '../errors.js';
import { createWallClockMatcher, monthMask, weekdayMasks } from './wall-clock.js';
const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
/** Validates a daily spec; `what` prefixes error messages. */
export function parseDaily(spec, what) {
    if (!Array.isArray(spec.times) || spec.times.length === 0) {
        throw new InvalidScheduleError(`${what}: times must be a non-empty list of "HH:MM" or "HH:MM:SS" local times`);
    }
    const unique = new Set();
    for (const time of spec.times) {
        const m = typeof time === 'string' ? TIME.exec(time.trim()) : null;
        const [h, min, s] = m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [NaN, NaN, NaN];
        if (!m || h > 23 || min > 59 || s > 59) {
            throw new InvalidScheduleError(`${what}: times: "${String(time)}" is not a 24-hour local time "HH:MM" or "HH:MM:SS"`);
        }
        unique.add(h * 3600 + min * 60 + s);
    }
    const seconds = [...unique].sort((a, b) => a - b);
    const weekdays = integerSet(spec.weekdays, 0, 6, 'weekdays', what);
    const monthDays = integerSet(spec.monthDays, 1, 31, 'monthDays', what);
    const byFirstWeekday = weekdayMasks(weekdays === null ? 0x7f : weekdays.reduce((mask, w) => mask | (1 << w), 0));
    const dayMask = monthDays === null ? -1 : monthDays.reduce((mask, d) => mask | (1 << (d - 1)), 0);
    const matcher = createWallClockMatcher({
        // Both filters must hold (django-cron's run_weekly_on_days and run_monthly_on_days each narrow the days).
        daysOf: (_month, first, length) => byFirstWeekday[first] & dayMask & monthMask(length),
    }, {
        firstFrom(sod) {
            for (const s of seconds)
                if (s >= sod)
                    return s;
            return -1;
        },
    });
    return { seconds, times: seconds.map(formatTime), weekdays, monthDays, matcher };
}
/** A second of the day as "HH:MM", or "HH:MM:SS" when the seconds are not zero. */
export function formatTime(second) {
    const pad = (n) => String(n).padStart(2, '0');
    const hms = `${pad(Math.floor(second / 3600))}:${pad(Math.floor((second % 3600) / 60))}`;
    return second % 60 === 0 ? hms : `${hms}:${pad(second % 60)}`;
}
function integerSet(list, min, max, field, what) {
    if (list === undefined)
        return null;
    if (!Array.isArray(list) || list.length === 0) {
        throw new InvalidScheduleError(`${what}: ${field} must be a non-empty list of integers ${min}-${max} (leave it out for every day)`);
    }
    for (const v of list) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
            throw new InvalidScheduleError(`${what}: ${field}: ${JSON.stringify(v)} is not an integer ${min}-${max}`);
        }
    }
    return [...new Set(list)].sort((a, b) => a - b);
}
//# sourceMappingURL=daily.js.map