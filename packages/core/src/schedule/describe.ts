import type { ParsedCron } from './cron.js';
import type { ParsedDaily } from './daily.js';
import { formatTime } from './daily.js';

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const UNITS: readonly [number, string][] = [
  [604_800_000, 'week'],
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1_000, 'second'],
  [1, 'millisecond'],
];

/** "every 5 minutes", "every 90 seconds", "every hour"; an anchor other than the epoch is named. */
export function describeEvery(everyMs: number, anchor: number): string {
  const [unit, name] = UNITS.find(([ms]) => everyMs % ms === 0) ?? [1, 'millisecond'];
  const count = everyMs / unit;
  const phrase = count === 1 ? `every ${name}` : `every ${count} ${name}s`;
  return anchor === 0 ? phrase : `${phrase} from ${new Date(anchor).toISOString()}`;
}

/** "at 06:00 and 18:30 on weekdays (Europe/Paris)". */
export function describeDaily(daily: ParsedDaily, timezone: string): string {
  return `at ${list(daily.times)} ${describeDays(daily.weekdays, daily.monthDays)} (${timezone})`;
}

/** A readable phrase for common cron shapes, else `cron "expr" (zone)`. */
export function describeCron(cron: ParsedCron, expression: string, timezone: string): string {
  const [second, minute, hour, dom, month, dow] = cron.texts as [string, string, string, string, string, string];
  const everyDay = isStar(dom) && isStar(month) && isStar(dow);
  const zone = timezone === 'UTC' ? '' : ` (${timezone})`;
  const number = /^\d+$/;
  if (second === '0' && everyDay && hour === '*') {
    if (minute === '*') return 'every minute';
    const step = /^(?:\*|0)\/(\d+)$/.exec(minute);
    if (step && 60 % Number(step[1]) === 0) return `every ${step[1]} minutes${zone}`;
    if (number.test(minute)) return `at minute ${Number(minute)} of every hour${zone}`;
  }
  if (second === '*' && minute === '*' && hour === '*' && everyDay) return 'every second';
  if (number.test(second) && number.test(minute) && number.test(hour) && isStar(dom) && isStar(month)) {
    const time = formatTime(Number(hour) * 3600 + Number(minute) * 60 + Number(second));
    const days = cron.fields[5] as readonly number[];
    if (isStar(dow)) return `at ${time} every day (${timezone})`;
    return `at ${time} ${describeDays(days, null)} (${timezone})`;
  }
  return `cron "${expression.trim()}" (${timezone})`;
}

function describeDays(weekdays: readonly number[] | null, monthDays: readonly number[] | null): string {
  const parts: string[] = [];
  if (weekdays !== null && weekdays.length < 7) {
    const key = weekdays.join(',');
    if (key === '1,2,3,4,5') parts.push('on weekdays');
    else if (key === '0,6') parts.push('on weekends');
    else parts.push(`on ${list(weekdays.map((d) => WEEKDAY_NAMES[d] as string))}`);
  }
  if (monthDays !== null && monthDays.length < 31) {
    parts.push(`on day${monthDays.length === 1 ? '' : 's'} ${list(monthDays.map(String))} of the month`);
  }
  return parts.length === 0 ? 'every day' : parts.join(' when also ');
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] as string}`;
}

function isStar(field: string): boolean {
  return field === '*' || field === '?';
}
