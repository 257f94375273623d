/**
 * From wall-clock matches to instants in a zone, after Vixie cron's DST rule.
 *
 * Fixed-time schedules map each matching wall time L to one instant: its first
 * occurrence, or — when L falls in a spring-forward gap — the transition instant that
 * ends the gap. That map is monotone, so wall order is instant order and several wall
 * times landing on one transition instant make one slot.
 *
 * Real-time schedules (cron hour field `*` or `*\/n`) fire at every instant whose wall
 * time matches: the search walks the zone's constant-offset periods.
 */
import type { ZoneRules } from './timezone.js';
import { DAY_MS, type WallClockMatcher } from './wall-clock.js';

/** The instant a fixed-time schedule runs for wall time `wall`: its first occurrence, or the end of its gap. */
export function fixedTimeInstant(zone: ZoneRules, wall: number): number {
  const before = zone.offsetAt(wall - DAY_MS);
  const after = zone.offsetAt(wall + DAY_MS);
  const underBefore = wall - before;
  if (before === after && zone.offsetAt(underBefore) === before) return underBefore;
  const underAfter = wall - after;
  const validBefore = zone.offsetAt(underBefore) === before;
  const validAfter = zone.offsetAt(underAfter) === after;
  // Fall-back: both exist, the first occurrence wins. Spring-forward: neither exists.
  if (validBefore && validAfter) return Math.min(underBefore, underAfter);
  if (validBefore) return underBefore;
  if (validAfter) return underAfter;
  const low = Math.min(underBefore, underAfter);
  const high = Math.max(underBefore, underAfter);
  return zone.transitionAfter(low, high + 1) ?? high;
}

/** The first slot strictly after `after` of a fixed-time schedule in `zone`. */
export function nextFixedTime(matcher: WallClockMatcher, zone: ZoneRules, after: number): number | null {
  const wall = after + zone.offsetAt(after);
  const first = Math.min(after, fixedTimeInstant(zone, wall));
  let bound = wall;
  if (first < after) {
    // `after` is the second occurrence of a repeated wall time: the rest of the repeated
    // stretch maps to first occurrences, before `after`. Start where it ends.
    const transition = zone.transitionAfter(first, after + 1);
    if (transition !== null) bound = Math.max(wall, transition + zone.offsetAt(first) - 1);
  }
  for (;;) {
    const candidate = matcher.nextAfter(bound);
    if (candidate === null) return null;
    const instant = fixedTimeInstant(zone, candidate);
    if (instant > after) return instant;
    // Every wall time before the instant's own wall time maps to it as well (a gap): jump past them.
    bound = Math.max(candidate, instant + zone.offsetAt(instant) - 1);
  }
}

/** The first slot strictly after `after` of a real-time schedule in `zone`. */
export function nextRealTime(matcher: WallClockMatcher, zone: ZoneRules, after: number): number | null {
  let cursor = after;
  for (;;) {
    const offset = zone.offsetAt(cursor + 1);
    const end = zone.periodEnd(cursor + 1);
    const candidate = matcher.nextAfter(cursor + offset);
    if (candidate === null) return null;
    const instant = candidate - offset;
    if (instant < end) return instant;
    cursor = end - 1;
  }
}
