import { show } from './show.js';
import { MAX_PASSED_RANGES, SKIP_REASONS, type SkipReason } from './store.js';

/**
 * What is wrong with a claim's `passed` (see `SlotClaim.passed`), or null: `field` is the path
 * below `passed` (`''`, `.after`, `.ranges[2].count`, …), for a store's InvalidArgumentError.
 * Ranges must be well-formed, ascending, disjoint, after `after` and before the claim's `slotAt`.
 */
export function passedSlotsProblem(value: unknown, slotAt: Date): { field: string; message: string } | null {
  const isDate = (v: unknown): v is Date => v instanceof Date && !Number.isNaN(v.getTime());
  if (typeof value !== 'object' || value === null) return { field: '', message: `expected { after, ranges }, got ${show(value)}` };
  const { after, ranges } = value as Record<string, unknown>;
  if (after !== null && !isDate(after)) return { field: '.after', message: `expected a valid Date or null, got ${show(after)}` };
  if (!Array.isArray(ranges) || ranges.length > MAX_PASSED_RANGES) {
    return { field: '.ranges', message: `expected a list of at most ${MAX_PASSED_RANGES} ranges, got ${show(ranges)}` };
  }
  let floor = after === null ? Number.NEGATIVE_INFINITY : after.getTime();
  for (const [i, range] of ranges.entries()) {
    const at = `.ranges[${i}]`;
    if (typeof range !== 'object' || range === null) return { field: at, message: `expected a range, got ${show(range)}` };
    const r = range as Record<string, unknown>;
    if (!isDate(r.firstSlotAt)) return { field: `${at}.firstSlotAt`, message: `expected a valid Date, got ${show(r.firstSlotAt)}` };
    if (!isDate(r.lastSlotAt)) return { field: `${at}.lastSlotAt`, message: `expected a valid Date, got ${show(r.lastSlotAt)}` };
    if (typeof r.count !== 'number' || !Number.isSafeInteger(r.count) || r.count < 1) {
      return { field: `${at}.count`, message: `expected an integer ≥ 1, got ${show(r.count)}` };
    }
    if (!SKIP_REASONS.includes(r.reason as SkipReason))
      return { field: `${at}.reason`, message: `must be one of ${SKIP_REASONS.join(', ')}, got ${show(r.reason)}` };
    if (typeof r.message !== 'string') return { field: `${at}.message`, message: `must be a string, got ${show(r.message)}` };
    const first = r.firstSlotAt.getTime();
    const last = r.lastSlotAt.getTime();
    if (first <= floor || last < first || last >= slotAt.getTime()) {
      return { field: at, message: "ranges must be ascending and disjoint, after passed.after and before the claim's slotAt" };
    }
    floor = last;
  }
  return null;
}
