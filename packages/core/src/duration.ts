import { InvalidJobError } from './errors.js';

/** The longest delay a JavaScript timer can wait (Node clamps anything longer to 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** A length of time: milliseconds, a string like "90s", "5m", "1h30m", "2d", or an object. */
export type Duration = number | string | { days?: number; hours?: number; minutes?: number; seconds?: number; milliseconds?: number };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Parses a {@link Duration} to milliseconds. `what` names the field in the error
 * ("job \"report\": timeout"). Zero, negative, NaN and unparsable values are rejected.
 */
export function parseDuration(
  value: Duration,
  what: string,
  ErrorClass: new (message: string) => Error = InvalidJobError,
  max = Number.MAX_SAFE_INTEGER,
): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    PART.lastIndex = 0;
    let total = 0;
    let matched = 0;
    for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
      total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
      matched = PART.lastIndex;
    }
    if (text === '' || matched !== text.length) {
      throw new ErrorClass(`${what}: "${value}" is not a duration (use e.g. "90s", "5m", "1h30m", "2d" or milliseconds)`);
    }
    ms = total;
  } else if (value !== null && typeof value === 'object') {
    const allowed = new Set(['days', 'hours', 'minutes', 'seconds', 'milliseconds']);
    for (const k of Object.keys(value)) {
      if (!allowed.has(k)) throw new ErrorClass(`${what}: unknown duration field "${k}"`);
    }
    const v = value as Record<string, number | undefined>;
    ms =
      (v.days ?? 0) * 86_400_000 +
      (v.hours ?? 0) * 3_600_000 +
      (v.minutes ?? 0) * 60_000 +
      (v.seconds ?? 0) * 1_000 +
      (v.milliseconds ?? 0);
  } else {
    throw new ErrorClass(`${what}: expected a duration, got ${typeof value}`);
  }
  const rounded = Math.round(ms);
  if (!Number.isFinite(ms) || rounded < 1) {
    throw new ErrorClass(`${what}: duration must be a positive, finite length of time (at least 1 ms), got ${JSON.stringify(value)}`);
  }
  if (rounded > max) {
    throw new ErrorClass(`${what}: duration must be at most ${max} ms, got ${JSON.stringify(value)} (${rounded} ms)`);
  }
  return rounded;
}
