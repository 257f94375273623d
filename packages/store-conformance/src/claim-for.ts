import type { ScheduleRef, SlotClaim } from '@tickwork/core';

/** The instant conformance tests count from (a Monday, far from any DST change); stores take `now` from the caller, so nothing sleeps. */
export const BASE_INSTANT: Date = new Date('2030-01-07T00:00:00.000Z');

/** `BASE_INSTANT` plus `offsetMs` milliseconds, as a new Date. */
export function instantAt(offsetMs: number): Date {
  return new Date(BASE_INSTANT.getTime() + offsetMs);
}

/** A schedule-triggered first-attempt claim of `slotAt` for `ref` (60 s lease, no parallel runs), with `overrides` applied. */
export function claimFor(
  ref: ScheduleRef,
  slotAt: Date,
  overrides: Partial<Omit<SlotClaim, 'code' | 'key' | 'slotAt'>> = {},
): SlotClaim {
  return {
    code: ref.code,
    key: ref.key,
    slotAt,
    attempt: 1,
    trigger: 'schedule',
    allowParallel: false,
    leaseMs: 60_000,
    ...overrides,
  };
}
