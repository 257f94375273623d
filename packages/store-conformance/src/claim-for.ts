import type { JobState, ScheduleRef, Store } from '@tickwork/core';
import type { RuntimeScheduleInput, SlotClaim } from '@tickwork/core/store';

/** The instant conformance tests count from (a Monday, far from any DST change); stores take `now` from the caller, so nothing sleeps. */
export const BASE_INSTANT: Date = new Date('2030-01-07T00:00:00.000Z');

/** `BASE_INSTANT` plus `offsetMs` milliseconds, as a new Date. */
export function instantAt(offsetMs: number): Date {
  return new Date(BASE_INSTANT.getTime() + offsetMs);
}

/** A schedule-triggered first-attempt claim of `slotAt` for `ref` (60 s lease, overlap `skip`), with `overrides` applied. */
export function claimFor(ref: ScheduleRef, slotAt: Date, overrides: Partial<Omit<SlotClaim, 'code' | 'key' | 'slotAt'>> = {}): SlotClaim {
  return {
    code: ref.code,
    key: ref.key,
    slotAt,
    attempt: 1,
    trigger: 'schedule',
    overlap: 'skip',
    leaseMs: 60_000,
    ...overrides,
  };
}

/** A minimal runtime-schedule input for `ref` (every minute), with `overrides` applied. */
export function scheduleInput(ref: ScheduleRef, overrides: Partial<Omit<RuntimeScheduleInput, 'code' | 'key'>> = {}): RuntimeScheduleInput {
  return {
    code: ref.code,
    key: ref.key,
    schedule: { kind: 'cron', expression: '* * * * *' },
    timezone: null,
    payload: null,
    enabled: true,
    startAt: null,
    expiresAt: null,
    description: null,
    options: {},
    ...overrides,
  };
}

/**
 * Makes `refs` claimable: creates the runtime schedules of those with a key (a claim of a key
 * with no runtime schedule is `unscheduled`), then ensures every state, as of `now`.
 */
export async function prepareSchedules(store: Store, refs: readonly ScheduleRef[], now: Date): Promise<JobState[]> {
  const runtime = [...new Map(refs.filter((ref) => ref.key !== '').map((ref) => [`${ref.code}\u0000${ref.key}`, ref])).values()];
  for (let i = 0; i < runtime.length; i += 1000) {
    await store.upsertSchedules(
      runtime.slice(i, i + 1000).map((ref) => scheduleInput(ref)),
      now,
    );
  }
  return store.ensureStates(refs, now);
}
