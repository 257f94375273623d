import { parseDuration } from '../duration.js';
import { InvalidScheduleError } from '../errors.js';
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** Every `interval` of absolute time ("5m", "90s", `{ minutes: 5 }`), aligned to the epoch or `anchor`. */
export function every(interval, options = {}) {
    const everyMs = parseDuration(interval, 'every(): interval', InvalidScheduleError);
    const spec = { kind: 'every', everyMs };
    if (options.anchor !== undefined)
        spec.anchor = toIso(options.anchor, 'every(): anchor');
    return spec;
}
/** At the given local times ("06:00", "18:30:15") every day, or on the given weekdays / month days. */
export function dailyAt(times, options = {}) {
    const list = typeof times === 'string' ? [times] : [...times];
    const spec = { kind: 'daily', times: list };
    if (options.weekdays !== undefined)
        spec.weekdays = normaliseWeekdays(options.weekdays);
    if (options.monthDays !== undefined)
        spec.monthDays = [...options.monthDays];
    if (options.timezone !== undefined)
        spec.timezone = options.timezone;
    if (options.dst !== undefined)
        spec.dst = { ...options.dst };
    return spec;
}
/** A cron expression (5 fields, 6 with seconds, 7 with seconds and year), e.g. `cron('0 12 15W * *', { timezone: 'Europe/Paris' })`. */
export function cron(expression, options = {}) {
    const spec = { kind: 'cron', expression };
    if (options.timezone !== undefined)
        spec.timezone = options.timezone;
    if (options.dst !== undefined)
        spec.dst = { ...options.dst };
    return spec;
}
/** Once, at `instant`. */
export function once(instant) {
    return { kind: 'once', at: toIso(instant, 'once(): instant') };
}
function toIso(value, what) {
    const d = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(d.getTime()))
        throw new InvalidScheduleError(`${what}: "${String(value)}" is not a valid instant`);
    return d.toISOString();
}
function normaliseWeekdays(input) {
    if (input === 'weekdays')
        return [1, 2, 3, 4, 5];
    if (input === 'weekends')
        return [0, 6];
    return input.map((day) => {
        if (typeof day === 'number') {
            if (!Number.isInteger(day) || day < 0 || day > 7) {
                throw new InvalidScheduleError(`dailyAt(): weekday ${day} is out of range (0 = Sunday … 6 = Saturday, 7 = Sunday)`);
            }
            return day % 7;
        }
        const index = WEEKDAY_NAMES.indexOf(day.trim().slice(0, 3).toLowerCase());
        if (index < 0)
            throw new InvalidScheduleError(`dailyAt(): "${day}" is not a weekday name`);
        return index;
    });
}
//# sourceMappingURL=spec.js.map