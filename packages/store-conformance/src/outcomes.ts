import type { JobState, RunRecord } from '@tickwork/core';
import type { ClaimOutcome, CompletionOutcome, Lease } from '@tickwork/core/store';
import { expect } from 'vitest';

/** Asserts a claim succeeded and returns its run and lease. */
export function expectClaimed(outcome: ClaimOutcome | undefined): { run: RunRecord; lease: Lease } {
  expect(outcome?.status).toBe('claimed');
  if (outcome?.status !== 'claimed') throw new Error('unreachable');
  return { run: outcome.run, lease: outcome.lease };
}

/** Asserts a claim was refused as an overlap and returns the skipped run. */
export function expectOverlap(outcome: ClaimOutcome | undefined): RunRecord {
  expect(outcome?.status).toBe('overlap');
  if (outcome?.status !== 'overlap') throw new Error('unreachable');
  return outcome.run;
}

/** Asserts a completion was recorded with the schedule's state and returns both. */
export function expectCompleted(outcome: CompletionOutcome | undefined): { run: RunRecord; state: JobState } {
  expect(outcome?.status).toBe('completed');
  if (outcome?.status !== 'completed') throw new Error('unreachable');
  expect(outcome.state).not.toBeNull();
  return { run: outcome.run, state: outcome.state as JobState };
}

/** Asserts every Date-typed field of a run is a Date and its id a string. */
export function expectRunShape(run: RunRecord): void {
  expect(typeof run.id).toBe('string');
  expect(run.slotAt).toBeInstanceOf(Date);
  expect(run.startedAt).toBeInstanceOf(Date);
  if (run.finishedAt !== null) expect(run.finishedAt).toBeInstanceOf(Date);
  if (run.leaseExpiresAt !== null) expect(run.leaseExpiresAt).toBeInstanceOf(Date);
  expect(typeof run.token).toBe('number');
  expect(typeof run.attempt).toBe('number');
}

/** Asserts every Date-typed field of a state is a Date (or null where allowed). */
export function expectStateShape(state: JobState): void {
  expect(state.createdAt).toBeInstanceOf(Date);
  expect(state.updatedAt).toBeInstanceOf(Date);
  for (const field of ['resumedAt', 'lastSlotAt', 'lastFinishedAt', 'lastFinishedSlotAt'] as const) {
    const value = state[field];
    if (value !== null) expect(value).toBeInstanceOf(Date);
  }
}

/**
 * Polls `condition` until it holds or `timeoutMs` passes. Only for waiting on asynchronous
 * delivery (pub/sub); never for testing time logic.
 */
export async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The number of times each value occurs. */
export function countBy<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
