import { createMemoryStore, defineJob, every, type JobState } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import {
  applyFreshState,
  createEntry,
  dueAtOf,
  endClaim,
  endWait,
  startClaim,
  startWait,
  type ScheduleEntry,
} from '../src/schedule-entry.js';
import { SharedValues } from '../src/shared-values.js';

const job = defineJob({ code: 'phase-job', schedule: every('1m'), run: async () => undefined });
const plan = { missedGraceMs: null, catchUp: false };

async function entryOf(): Promise<{ entry: ScheduleEntry; state: JobState; shared: SharedValues }> {
  const [state] = await createMemoryStore().ensureStates([{ code: job.code, key: '' }], new Date('2026-01-01T00:00:00Z'));
  const shared = new SharedValues('UTC', () => 1);
  const { entry, error } = createEntry(job, state as JobState, shared);
  expect(error).toBeNull();
  return { entry, state: state as JobState, shared };
}

describe('a schedule entry has one phase at a time', () => {
  it('starts queued, goes claiming and back, waiting and back', async () => {
    const { entry } = await entryOf();
    expect(entry.phase.name).toBe('queued');
    startClaim(entry);
    expect(entry.phase.name).toBe('claiming');
    endClaim(entry);
    expect(entry.phase.name).toBe('queued');
    startWait(entry);
    expect(entry.phase).toEqual({ name: 'waiting', cancel: null });
    expect(endWait(entry)).toBe(true);
    expect(entry.phase.name).toBe('queued');
  });

  it('refuses a transition from the wrong phase, naming the schedule and both phases, and changes nothing', async () => {
    const { entry } = await entryOf();
    expect(() => endClaim(entry)).toThrow('schedule phase-job/: cannot end a claim while queued');
    startClaim(entry);
    expect(() => startClaim(entry)).toThrow('cannot start a claim while claiming');
    expect(() => startWait(entry)).toThrow('cannot wait while claiming');
    expect(endWait(entry)).toBe(false);
    expect(entry.phase.name).toBe('claiming');
    endClaim(entry);
    startWait(entry);
    expect(() => startClaim(entry)).toThrow('cannot start a claim while waiting');
    expect(() => endClaim(entry)).toThrow('cannot end a claim while waiting');
    expect(entry.phase.name).toBe('waiting');
  });

  it('cancels the timer of a wait when the wait ends, once', async () => {
    const { entry } = await entryOf();
    let cancelled = 0;
    startWait(entry, () => () => cancelled++);
    expect(endWait(entry)).toBe(true);
    expect(endWait(entry)).toBe(false);
    expect(cancelled).toBe(1);
  });

  it('ends a wait whose timer is due already while it is armed', async () => {
    const { entry } = await entryOf();
    let cancelled = 0;
    startWait(entry, () => {
      // What callAt does with an instant already past: calls back before returning its cancel.
      expect(endWait(entry)).toBe(true);
      return () => cancelled++;
    });
    expect(entry.phase.name).toBe('queued');
    expect(cancelled).toBe(0);
  });

  it('takes a hold that comes during a claim, and its re-plan after the claim finds it not runnable', async () => {
    const { entry, state, shared } = await entryOf();
    const nowMs = Date.parse('2026-01-01T00:00:30Z');
    expect(dueAtOf(entry, nowMs, plan)).toBe(Date.parse('2026-01-01T00:01:00Z'));
    startClaim(entry);
    const error = applyFreshState(entry, { ...state, scheduleOverride: { kind: 'every', everyMs: -1 } }, shared);
    expect(error).not.toBeNull();
    expect(entry.held).toBe('invalid');
    expect(entry.phase.name).toBe('claiming');
    endClaim(entry);
    expect(dueAtOf(entry, nowMs, plan)).toBeNull();
  });
});
