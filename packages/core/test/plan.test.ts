import { describe, expect, it } from 'vitest';
import { defineJob, every, type JobState } from '../src/index.js';
import { compileSchedule } from '../src/entry/schedule.js';
import { initialJobState } from '../src/entry/store.js';
import { jitterMs, nextDueAt, planDue } from '../src/entry/runner.js';

const job = defineJob({ code: 'herd', schedule: every('1h'), jitter: '10m', retryAfterFailure: '5m', run: () => undefined });
const schedule = compileSchedule(every('1h'));
const noon = new Date('2026-03-02T12:00:00Z');

function state(patch: Partial<JobState>): JobState {
  return {
    ...initialJobState({ code: 'herd', key: '' }, new Date('2026-03-01T00:00:00Z')),
    lastSlotAt: new Date('2026-03-02T11:00:00Z'),
    ...patch,
  };
}

describe('nextDueAt and planDue agree', () => {
  it('a slot already passed whose jittered start is still ahead is the next thing due, then it is planned', () => {
    const delay = jitterMs(job, '', noon);
    expect(delay).toBeGreaterThan(0);
    const before = new Date(noon.getTime() + delay - 1);
    expect(nextDueAt({ job, key: '', schedule, state: state({}), now: before })).toEqual(new Date(noon.getTime() + delay));
    expect(planDue({ job, key: '', schedule, state: state({}), now: before })).toEqual([]);
    const at = new Date(noon.getTime() + delay);
    expect(planDue({ job, key: '', schedule, state: state({}), now: at }).map((c) => c.slotAt)).toEqual([noon]);
  });

  it('a retry superseded by a newer slot is not reported as due', () => {
    const failed = state({
      lastSlotAt: new Date('2026-03-02T12:00:00Z'),
      lastStatus: 'failed',
      lastAttempt: 1,
      lastFinishedSlotAt: new Date('2026-03-02T11:00:00Z'),
      lastFinishedAt: new Date('2026-03-02T11:00:05Z'),
    });
    const now = new Date('2026-03-02T12:30:00Z');
    const due = nextDueAt({ job, key: '', schedule, state: failed, now });
    expect(due!.getTime()).toBeGreaterThan(now.getTime());
    expect(planDue({ job, key: '', schedule, state: failed, now })).toEqual([]);
  });

  it('a pending retry is due retryAfterFailure after the failure, and planned then', () => {
    const failed = state({
      lastStatus: 'failed',
      lastAttempt: 1,
      lastFinishedSlotAt: new Date('2026-03-02T11:00:00Z'),
      lastFinishedAt: new Date('2026-03-02T11:00:05Z'),
    });
    const now = new Date('2026-03-02T11:01:00Z');
    expect(nextDueAt({ job, key: '', schedule, state: failed, now })).toEqual(new Date('2026-03-02T11:05:05Z'));
    const claims = planDue({ job, key: '', schedule, state: failed, now: new Date('2026-03-02T11:05:05Z') });
    expect(claims.map((c) => [c.slotAt.toISOString(), c.attempt, c.trigger])).toEqual([['2026-03-02T11:00:00.000Z', 2, 'retry']]);
  });

  it('all-policy backfill stops at the first slot still waiting for its jitter, so none is skipped', () => {
    const jittery = defineJob({
      code: 'backfill',
      schedule: every('1s'),
      jitter: '5s',
      missedRunPolicy: { all: { within: '1m' } },
      run: () => undefined,
    });
    const sched = compileSchedule(every('1s'));
    // At 12:00:15 the slot of 12:00:14 has started (small jitter) while 12:00:13's is still waiting.
    const now = new Date('2026-03-02T12:00:15Z');
    const st = {
      ...initialJobState({ code: 'backfill', key: '' }, new Date('2026-03-01T00:00:00Z')),
      lastSlotAt: new Date('2026-03-02T12:00:00Z'),
    };
    const claimed = planDue({ job: jittery, key: '', schedule: sched, state: st, now }).map((c) => c.slotAt.getTime());
    const all = [...Array(15).keys()].map((i) => Date.parse('2026-03-02T12:00:01Z') + i * 1000);
    expect(all.filter((slot) => slot + jitterMs(jittery, '', new Date(slot)) <= now.getTime())).toContain(
      Date.parse('2026-03-02T12:00:14Z'),
    );
    // A prefix of the missed slots, in order: every slot before the last claimed one is claimed too.
    expect(claimed).toEqual(all.slice(0, claimed.length));
    const firstWaiting = all[claimed.length];
    if (firstWaiting !== undefined) expect(firstWaiting + jitterMs(jittery, '', new Date(firstWaiting))).toBeGreaterThan(now.getTime());
  });
});

describe('missed-run policy all on a schedule the store has just met', () => {
  const backfill = defineJob({ code: 'backfill', schedule: every('1s'), missedRunPolicy: { all: { within: '1m' } }, run: () => undefined });
  const everySecond = compileSchedule(every('1s'));
  const created = new Date('2026-03-02T12:00:00.500Z');
  const fresh = initialJobState({ code: 'backfill', key: '' }, created);

  it('owes, of the slots before it existed, only the latest within the grace (as latest does), then every slot since', () => {
    // Chaos scenario 7 at 50 jobs: each new every-second job first worked through 60 slots from before it existed.
    const now = new Date('2026-03-02T12:00:03.000Z');
    expect(planDue({ job: backfill, key: '', schedule: everySecond, state: fresh, now }).map((c) => c.slotAt.toISOString())).toEqual([
      '2026-03-02T12:00:00.000Z',
      '2026-03-02T12:00:01.000Z',
      '2026-03-02T12:00:02.000Z',
      '2026-03-02T12:00:03.000Z',
    ]);
  });

  it('a first tick right at its creation runs the slot due then and nothing before', () => {
    expect(
      planDue({ job: backfill, key: '', schedule: everySecond, state: fresh, now: created }).map((c) => c.slotAt.toISOString()),
    ).toEqual(['2026-03-02T12:00:00.000Z']);
  });
});
