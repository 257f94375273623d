import { InvalidScheduleError } from '../errors.js';
import { DAY_MS } from './wall-clock.js';

/**
 * A zone's UTC offsets over time. Offsets come from Intl once per zone and UTC year
 * (daily samples, transitions refined to the second) and are then looked up without
 * Intl: slot computation stays fast and allocation-light.
 */
export interface ZoneRules {
  /** The IANA name as given. */
  readonly name: string;
  /** True for UTC and its aliases: offset always 0, no Intl involved. */
  readonly isUtc: boolean;
  /** Local wall time minus UTC, in milliseconds, at `instant`. */
  offsetAt(instant: number): number;
  /** Up to when the offset at `instant` is known to hold: the next transition or the end of a table. */
  periodEnd(instant: number): number;
  /** Since when the offset at `instant` is known to hold: the last transition or the start of a table. */
  periodStart(instant: number): number;
  /** The first instant after `instant` whose offset differs from the one at `instant`, or null before `limit`. */
  transitionAfter(instant: number, limit: number): number | null;
}

const UTC_NAMES = new Set([
  'UTC',
  'ETC/UTC',
  'GMT',
  'ETC/GMT',
  'UCT',
  'ETC/UCT',
  'ETC/UNIVERSAL',
  'UNIVERSAL',
  'ETC/ZULU',
  'ZULU',
  'ETC/GMT0',
  'ETC/GMT+0',
  'ETC/GMT-0',
  'GMT0',
  'GMT+0',
  'GMT-0',
]);

const UTC_RULES: ZoneRules = {
  name: 'UTC',
  isUtc: true,
  offsetAt: () => 0,
  periodEnd: () => Number.POSITIVE_INFINITY,
  periodStart: () => Number.NEGATIVE_INFINITY,
  transitionAfter: () => null,
};

// Zone rules are pure functions of the zone name and the tz database, so sharing them is safe.
const cache = new Map<string, ZoneRules>();

/** The rules of IANA zone `name`; throws InvalidScheduleError naming `what` and the timezone field. */
export function zoneRules(name: string, what: string): ZoneRules {
  const cached = cache.get(name);
  if (cached) return cached;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidScheduleError(`${what}: timezone ${JSON.stringify(name)} is not an IANA timezone name (e.g. "Europe/Paris", "UTC")`);
  }
  let rules: ZoneRules;
  if (UTC_NAMES.has(name.toUpperCase())) {
    rules = name === 'UTC' ? UTC_RULES : { ...UTC_RULES, name };
  } else {
    let format: Intl.DateTimeFormat;
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
    } catch (error) {
      throw new InvalidScheduleError(`${what}: timezone "${name}" is not a known IANA timezone (e.g. "Europe/Paris", "UTC")`, {
        cause: error,
      });
    }
    rules = intlRules(name, format);
  }
  cache.set(name, rules);
  return rules;
}

interface YearTable {
  start: number;
  end: number;
  /** starts[0] = start; starts[i > 0] = transition instants within the year. */
  starts: number[];
  offsets: number[];
}

function intlRules(name: string, format: Intl.DateTimeFormat): ZoneRules {
  const tables = new Map<number, YearTable>();
  let last: YearTable | null = null;

  const intlOffset = (instant: number): number => {
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
        default:
          break;
      }
    }
    const wall = new Date(0);
    wall.setUTCFullYear(y, mo - 1, d);
    wall.setUTCHours(h, mi, s, 0);
    return wall.getTime() - Math.floor(instant / 1000) * 1000;
  };

  const build = (year: number): YearTable => {
    const first = new Date(0);
    first.setUTCFullYear(year, 0, 1);
    const from = first.getTime();
    first.setUTCFullYear(year + 1, 0, 1);
    const end = first.getTime();
    const table: YearTable = { start: from, end, starts: [from], offsets: [intlOffset(from)] };
    let previous = from;
    let previousOffset = table.offsets[0] as number;
    for (let t = from + DAY_MS; ; t += DAY_MS) {
      const probe = Math.min(t, end - 1000);
      const offset = intlOffset(probe);
      if (offset !== previousOffset) {
        // The first whole second with the new offset (tz transitions fall on whole seconds).
        let lo = previous;
        let hi = probe;
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (intlOffset(mid) === previousOffset) lo = mid;
          else hi = mid;
        }
        table.starts.push(hi);
        table.offsets.push(offset);
        previousOffset = offset;
      }
      previous = probe;
      if (probe >= end - 1000) break;
    }
    return table;
  };

  const tableFor = (instant: number): YearTable => {
    if (last !== null && instant >= last.start && instant < last.end) return last;
    // Clamped so that probes a day beyond the Date range still find a (boundary) table.
    const clamped = Math.min(Math.max(instant, -8.6e15), 8.6e15);
    // The UTC year from the mean Gregorian year, corrected by the table's bounds: no Date allocated.
    let year = Math.floor(clamped / 31_556_952_000) + 1970;
    let table: YearTable;
    for (;;) {
      const known = tables.get(year);
      if (known === undefined) {
        table = build(year);
        tables.set(year, table);
      } else table = known;
      if (clamped < table.start) year -= 1;
      else if (clamped >= table.end) year += 1;
      else break;
    }
    last = table;
    return table;
  };

  // The last instant located and its period: a slot search asks offsetAt, periodStart and periodEnd of one instant in a row.
  let locatedAt = Number.NaN;
  let locatedTable: YearTable | null = null;
  let locatedIndex = 0;
  const locate = (instant: number): YearTable => {
    if (instant === locatedAt && locatedTable !== null) return locatedTable;
    const table = tableFor(instant);
    let i = table.starts.length - 1;
    while (i > 0 && (table.starts[i] as number) > instant) i--;
    locatedAt = instant;
    locatedTable = table;
    locatedIndex = i;
    return table;
  };

  const rules: ZoneRules = {
    name,
    isUtc: false,
    offsetAt(instant) {
      return locate(instant).offsets[locatedIndex] as number;
    },
    periodEnd(instant) {
      const table = locate(instant);
      return locatedIndex + 1 < table.starts.length ? (table.starts[locatedIndex + 1] as number) : table.end;
    },
    periodStart(instant) {
      return locate(instant).starts[locatedIndex] as number;
    },
    transitionAfter(instant, limit) {
      const offset = rules.offsetAt(instant);
      let t = rules.periodEnd(instant);
      while (t < limit && rules.offsetAt(t) === offset) t = rules.periodEnd(t);
      return t < limit ? t : null;
    },
  };
  return rules;
}
