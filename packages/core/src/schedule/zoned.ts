/**
 * From wall-clock matches to instants in a zone, under a DST policy.
 *
 * The search walks the zone's constant-offset periods. Inside one, every instant whose wall
 * time matches is a slot (real time), except where the policy drops one occurrence of a
 * repeated wall time (`overlap: 'first'` drops the second, `'last'` the first). Right after
 * a spring-forward change the policy adds what the gap skipped: one slot at the change
 * (`gap: 'next-instant'`), each skipped time moved by the gap's length (`'shift'`), or
 * nothing (`'skip'`). Vixie cron's rule is next-instant + first for fixed-time schedules and
 * skip + both for real-time ones.
 */
import type { DstPolicy } from './spec.js';
import type { ZoneRules } from './timezone.js';
import { DAY_MS, type WallClockMatcher } from './wall-clock.js';

/** An offset change: at instant `at` the offset goes from `before` to `after` (milliseconds). */
interface Change {
  at: number;
  before: number;
  after: number;
}

/**
 * Offset changes shape the slots for at most this long after them (a gap or overlap is shorter than the
 * largest offset difference, 26 h).
 */
const REACH = 2 * DAY_MS;

/** The first slot strictly after `after` of a wall-clock schedule in `zone` under `policy`. */
export function nextZoned(matcher: WallClockMatcher, zone: ZoneRules, policy: Required<DstPolicy>, after: number): number | null {
  // The matcher's last answer: nextAfter(knownFrom) = knownWall, so a query in [knownFrom, knownWall)
  // has the same answer; periods crossed on the way to a far slot then cost no new search.
  let knownFrom = Number.NaN;
  let knownWall: number | null = null;
  let from = after + 1;
  let offset = zone.offsetAt(from);
  // Most searches start far from any change: the stretch of constant offset began long before.
  let change = zone.periodStart(from) <= from - REACH || zone.offsetAt(from - REACH) === offset ? null : recentChange(zone, from);
  for (;;) {
    const end = zone.periodEnd(from);
    let best = change === null ? null : gapSlot(matcher, policy.gap, change, after, knownFrom, knownWall);
    let low = from;
    if (change !== null && policy.overlap === 'first' && change.before > change.after) {
      // The wall times just after a fall-back occurred once already, before it.
      low = Math.max(low, change.at + change.before - change.after);
    }
    let high = end;
    if (policy.overlap === 'last') {
      // The wall times just before a fall-back occur again after it.
      const next = upcomingChange(zone, from, end);
      if (next !== null && next.after < offset) high = Math.min(end, next.at - (offset - next.after));
    }
    if (low < high && (best === null || low < best)) {
      const query = low - 1 + offset;
      if (!(query >= knownFrom && (knownWall === null || query < knownWall))) {
        knownFrom = query;
        knownWall = matcher.nextAfter(query);
      }
      if (knownWall === null) return best;
      const instant = knownWall - offset;
      if (instant < high && (best === null || instant < best)) best = instant;
    }
    if (best !== null) return best;
    const nextOffset = zone.offsetAt(end);
    if (nextOffset !== offset) change = { at: end, before: offset, after: nextOffset };
    from = end;
    offset = nextOffset;
  }
}

/**
 * The slot a spring-forward gap adds after `after` under `gap`, or null. `knownFrom` / `knownWall`
 * are the walk's last search (`matcher.nextAfter(knownFrom) = knownWall`): a slot beyond the change
 * was usually searched for already from before the gap, and then answers this one too.
 */
function gapSlot(
  matcher: WallClockMatcher,
  gap: Required<DstPolicy>['gap'],
  change: Change,
  after: number,
  knownFrom: number,
  knownWall: number | null,
): number | null {
  if (change.after <= change.before || gap === 'skip') return null;
  const start = change.at + change.before; // the first skipped wall time
  const end = change.at + change.after; // the first wall time after the gap
  if (gap === 'next-instant' && change.at <= after) return null;
  // shift: a skipped wall time runs at the instant it would have had without the change.
  const query = gap === 'next-instant' ? start - 1 : Math.max(start - 1, after + change.before);
  const wall = query >= knownFrom && (knownWall === null || query < knownWall) ? knownWall : matcher.nextAfter(query);
  if (wall === null || wall >= end) return null;
  return gap === 'next-instant' ? change.at : wall - change.before;
}

/** The latest offset change in (t - REACH, t], or null. */
function recentChange(zone: ZoneRules, t: number): Change | null {
  let at = zone.transitionAfter(t - REACH, t + 1);
  if (at === null) return null;
  for (let later = zone.transitionAfter(at, t + 1); later !== null; later = zone.transitionAfter(later, t + 1)) at = later;
  return { at, before: zone.offsetAt(at - 1), after: zone.offsetAt(at) };
}

/** The first offset change at or after `end` (the end of the period holding `from`) within REACH, or null. */
function upcomingChange(zone: ZoneRules, from: number, end: number): Change | null {
  const at = zone.transitionAfter(from, end + REACH);
  return at === null ? null : { at, before: zone.offsetAt(at - 1), after: zone.offsetAt(at) };
}
