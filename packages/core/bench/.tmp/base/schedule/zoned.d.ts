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
import { type WallClockMatcher } from './wall-clock.js';
/** The first slot strictly after `after` of a wall-clock schedule in `zone` under `policy`. */
export declare function nextZoned(matcher: WallClockMatcher, zone: ZoneRules, policy: Required<DstPolicy>, after: number): number | null;
//# sourceMappingURL=zoned.d.ts.map