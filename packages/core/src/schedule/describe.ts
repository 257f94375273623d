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

/** A readable phrase for the cron shapes people write ("at 12:00 on the weekday nearest the 15th (UTC)"), else `cron "expr" (zone)`. */
export function describeCron(cron: ParsedCron, expression: string, timezone: string): string {
  const times = timesOfDay(cron);
  const days = cronDays(cron);
  if (times === null || days === null) return `cron "${expression.trim()}" (${timezone})`;
  if (days === 'every day' && times.startsWith('every') && !times.includes('minutes')) return times; // every minute, every second
  if (days === 'every day' && (times.startsWith('every') || times.startsWith('at minute')))
    return timezone === 'UTC' ? times : `${times} (${timezone})`;
  return `${times} ${days} (${timezone})`;
}

/** "at 06:00 and 18:30", "every 15 minutes", "at minute 5 of every hour"; null when not short. */
function timesOfDay(cron: ParsedCron): string | null {
  const [seconds, minutes, hours] = cron.fields as [readonly number[], readonly number[], readonly number[]];
  const [secondText, minuteText, hourText] = cron.texts as [string, string, string];
  if (seconds.length === 1 && seconds[0] === 0 && hourText === '*') {
    if (minuteText === '*') return 'every minute';
    const step = /^(?:\*|0)\/(\d+)$/.exec(minuteText);
    if (step && 60 % Number(step[1]) === 0) return `every ${step[1]} minutes`;
    if (minutes.length === 1) return `at minute ${minutes[0] as number} of every hour`;
  }
  if (secondText === '*' && minuteText === '*' && hourText === '*') return 'every second';
  if (seconds.length * minutes.length * hours.length > 6) return null;
  const all = hours.flatMap((h) => minutes.flatMap((m) => seconds.map((s) => formatTime(h * 3600 + m * 60 + s))));
  return `at ${list(all)}`;
}

/** "every day", "on the last Friday of the month", "on day 13 of the month when also on Friday in 2026"; null when not short. */
function cronDays(cron: ParsedCron): string | null {
  const { days } = cron;
  const monthDays = cron.fields[3] as readonly number[];
  const weekdays = cron.fields[5] as readonly number[];
  const months = cron.fields[4] as readonly number[];
  const domParts: string[] = [];
  if (!days.domStar) {
    if (monthDays.length > 0) domParts.push(`on day${monthDays.length === 1 ? '' : 's'} ${list(monthDays.map(String))} of the month`);
    for (const n of days.fromLast)
      domParts.push(n === 0 ? 'on the last day of the month' : `on the ${ordinal(n + 1)}-last day of the month`);
    for (const n of days.nearest) domParts.push(`on the weekday nearest the ${ordinal(n)}`);
    if (days.lastWeekday) domParts.push('on the last weekday of the month');
  }
  const dowParts: string[] = [];
  if (!days.dowStar) {
    if (weekdays.length > 0) dowParts.push(describeDays(weekdays, null));
    for (const [weekday, n] of days.nth)
      dowParts.push(`on the ${n === 'L' ? 'last' : (NTH[n - 1] as string)} ${WEEKDAY_NAMES[weekday] as string} of the month`);
  }
  if (domParts.length + dowParts.length > 3) return null;
  const dom = domParts.join(' and ');
  const dow = dowParts.join(' and ');
  let phrase = dom === '' ? dow || 'every day' : dow === '' ? dom : days.both ? `${dom} when also ${dow}` : `${dom} or ${dow}`;
  if (months.length < 12) phrase += ` in ${list(months.map((m) => MONTH_NAMES[m - 1] as string))}`;
  if (days.years !== null) {
    const years = days.years;
    const first = years[0] as number;
    const last = years[years.length - 1] as number;
    const step = /^\*\/(\d+)$/.exec(cron.texts[6] as string);
    if (years.length <= 3) phrase += `${months.length < 12 ? ' of' : ' in'} ${list(years.map(String))}`;
    else if (last - first + 1 === years.length) phrase += ` from ${first} to ${last}`;
    else if (step) phrase += ` in the years divisible by ${step[1] as string}`;
    else phrase += ` in the years ${cron.texts[6] as string}`;
  }
  return phrase;
}

const NTH = ['first', 'second', 'third', 'fourth', 'fifth'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** 1st, 2nd, 3rd, 4th, 11th, 21st, … */
function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
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
