import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  createMemoryStore,
  createScheduler,
  cron,
  dailyAt,
  defineJob,
  every,
  InvalidArgumentError,
  runDue,
  type JobDefinition,
  type RunRecord,
  type Store,
} from '../src/index.js';
import { jobSchedule } from '../src/entry/schedule.js';
import { planDue } from '../src/entry/runner.js';
import { initialJobState } from '../src/job-state.js';
import { deferred, runsOf } from './run-fixtures.js';

function setup(definitions: JobDefinition[], start: string) {
  const store = createMemoryStore();
  const clock = createFakeClock(start);
  const jobs = definitions.map((d) => defineJob(d));
  const tick = () => runDue({ jobs, store, clock, runnerId: 'test-runner' });
  return { store, clock, tick, jobs };
}

const skipped = (runs: RunRecord[]) => runs.filter((r) => r.status === 'skipped');
const at = (iso: string) => new Date(iso);

/** Slots not run, summed over the skipped records of one job. */
async function skippedSlots(store: Store, code: string, reason?: RunRecord['skipReason']) {
  const runs = skipped(await runsOf(store, code));
  return runs.filter((r) => reason === undefined || r.skipReason === reason).reduce((sum, r) => sum + r.slotCount, 0);
}

describe('a reason for every slot not run', () => {
  it('latest coalesces missed slots into one skipped range naming the policy, and the state shows the last reason', async () => {
    const { store, clock, tick } = setup([{ code: 'minutely', schedule: every('1m'), run: () => {} }], '2026-03-02T12:00:10Z');
    await tick();
    clock.set('2026-03-02T12:05:10Z');
    await tick();
    const runs = await runsOf(store, 'minutely');
    expect(runs.filter((r) => r.status === 'succeeded').map((r) => r.slotAt.toISOString())).toEqual([
      '2026-03-02T12:00:00.000Z',
      '2026-03-02T12:05:00.000Z',
    ]);
    expect(skipped(runs)).toMatchObject([
      {
        attempt: 0,
        slotAt: at('2026-03-02T12:01:00Z'),
        rangeLastSlotAt: at('2026-03-02T12:04:00Z'),
        slotCount: 4,
        skipReason: 'missed-run-policy',
        trigger: 'schedule',
        finishedAt: at('2026-03-02T12:05:10Z'),
      },
    ]);
    expect(skipped(runs)[0]?.message).toContain('missed-run policy latest');
    const [state] = await store.getStates([{ code: 'minutely', key: '' }]);
    expect(state).toMatchObject({ lastSkipReason: 'missed-run-policy', lastSkippedSlotAt: at('2026-03-02T12:04:00Z') });
  });

  it('a paused every-second job writes one record for the whole pause, however long', async () => {
    const { store, clock, tick } = setup([{ code: 'second', schedule: cron('* * * * * *'), run: () => {} }], '2026-03-02T12:00:00.200Z');
    await tick();
    await store.setPaused({ code: 'second', key: '' }, true, { now: clock.now() });
    clock.set('2026-03-02T13:00:00.500Z');
    await tick();
    await store.setPaused({ code: 'second', key: '' }, false, { now: clock.now() });
    clock.set('2026-03-02T13:00:01.100Z');
    await tick();
    const runs = await runsOf(store, 'second');
    expect(runs).toHaveLength(3);
    expect(skipped(runs)).toMatchObject([
      { slotAt: at('2026-03-02T12:00:01Z'), rangeLastSlotAt: at('2026-03-02T13:00:00Z'), slotCount: 3600, skipReason: 'paused' },
    ]);
  });

  it('slots before startAt are recorded as outside the window', async () => {
    const { store, clock, tick } = setup(
      [{ code: 'later', schedule: every('1m'), startAt: '2026-03-02T12:03:00Z', run: () => {} }],
      '2026-03-02T12:00:10Z',
    );
    await tick();
    clock.set('2026-03-02T12:03:05Z');
    await tick();
    const runs = await runsOf(store, 'later');
    expect(runs.map((r) => [r.status, r.slotAt.toISOString(), r.slotCount, r.skipReason])).toEqual([
      ['skipped', '2026-03-02T12:01:00.000Z', 2, 'window'],
      ['succeeded', '2026-03-02T12:03:00.000Z', 1, null],
    ]);
  });

  it('an overlap skip names the reason overlap and its policy', async () => {
    const hold = deferred();
    const { store, clock, jobs } = setup([{ code: 'slow', schedule: every('10s'), run: () => hold.promise }], '2026-03-02T12:00:01Z');
    const first = runDue({ jobs, store, clock, runnerId: 'a' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock.set('2026-03-02T12:00:11Z');
    await runDue({ jobs, store, clock, runnerId: 'b' });
    hold.resolve();
    await first;
    const [skip] = skipped(await runsOf(store, 'slow'));
    expect(skip).toMatchObject({ attempt: 1, slotCount: 1, skipReason: 'overlap', rangeLastSlotAt: null });
    expect(skip?.message).toContain('overlap policy skip');
  });

  it("a slot in a DST gap dropped by dst.gap 'skip' is recorded as dst-gap", async () => {
    const { store, clock, tick } = setup(
      [{ code: 'night', schedule: dailyAt('02:30', { timezone: 'Europe/Paris', dst: { gap: 'skip' } }), run: () => {} }],
      '2026-03-28T01:30:10Z',
    );
    await tick();
    // 2026-03-29 02:30 Paris does not exist; the next slot is 2026-03-30 02:30 (00:30Z).
    clock.set('2026-03-30T00:30:10Z');
    await tick();
    const runs = await runsOf(store, 'night');
    expect(runs.map((r) => [r.status, r.slotAt.toISOString(), r.skipReason])).toEqual([
      ['succeeded', '2026-03-28T01:30:00.000Z', null],
      ['skipped', '2026-03-29T01:00:00.000Z', 'dst-gap'],
      ['succeeded', '2026-03-30T00:30:00.000Z', null],
    ]);
  });

  it('slots passed over inside a known store outage are recorded as store-outage', () => {
    const job = defineJob({ code: 'minutely', schedule: every('1m'), run: () => {} });
    const state = { ...emptyState('minutely', '2026-03-02T11:00:00Z'), lastSlotAt: at('2026-03-02T12:00:00Z') };
    const [claim] = planDue({
      job,
      key: '',
      schedule: job.schedule ? compiled(job) : null,
      state,
      now: at('2026-03-02T12:06:10Z'),
      outages: [{ from: at('2026-03-02T12:00:30Z'), to: at('2026-03-02T12:03:30Z') }],
    });
    expect(claim?.passed?.ranges.map((r) => [r.firstSlotAt.toISOString(), r.count, r.reason])).toEqual([
      ['2026-03-02T12:01:00.000Z', 3, 'store-outage'],
      ['2026-03-02T12:04:00.000Z', 2, 'missed-run-policy'],
    ]);
  });

  it('a runner planning from an older state records nothing: the claim that moved past the slots did', async () => {
    const { store, clock, tick, jobs } = setup([{ code: 'minutely', schedule: every('1m'), run: () => {} }], '2026-03-02T12:00:10Z');
    await tick();
    const [stale] = await store.getStates([{ code: 'minutely', key: '' }]);
    clock.set('2026-03-02T12:03:10Z');
    await tick();
    // A runner still holding the 12:00 state plans 12:04 as passing over 12:01–12:03: 12:03 ran, so its plan is old.
    clock.set('2026-03-02T12:04:10Z');
    const job = jobs[0] as (typeof jobs)[number];
    const [claim] = planDue({ job, key: '', schedule: compiled(job), state: stale as NonNullable<typeof stale>, now: clock.now() });
    expect(claim?.passed?.ranges[0]?.count).toBe(3);
    await store.claimSlots([claim as NonNullable<typeof claim>], { runnerId: 'old', now: clock.now() });
    expect(await skippedSlots(store, 'minutely')).toBe(2);
  });

  it('queryRuns filters by reason; an unknown reason is refused naming the field', async () => {
    const { store, clock, tick } = setup([{ code: 'minutely', schedule: every('1m'), run: () => {} }], '2026-03-02T12:00:10Z');
    await tick();
    clock.set('2026-03-02T12:05:10Z');
    await tick();
    expect((await store.queryRuns({ reason: 'missed-run-policy' })).runs).toHaveLength(1);
    expect((await store.queryRuns({ reason: ['overlap', 'paused'] })).runs).toHaveLength(0);
    await expect(store.queryRuns({ reason: 'bogus' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(store.queryRuns({ reason: 'bogus' as never })).rejects.toThrow(/reason.*bogus/);
  });

  it('a runtime schedule disabled and enabled again records the slots it missed as disabled; paused and resumed, as paused', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock('2026-03-02T12:00:00.200Z');
    const jobs = [defineJob({ code: 'tenant', schedule: null, run: () => {} })];
    const tick = () => runDue({ jobs, store, clock, runnerId: 'test-runner' });
    const schedules = createScheduler({ jobs, store, clock }).schedules('tenant');
    await schedules.upsert([
      { key: 'off', schedule: '* * * * * *' },
      { key: 'held', schedule: '* * * * * *' },
    ]);
    await tick();
    await schedules.upsert({ key: 'off', schedule: '* * * * * *', enabled: false });
    await schedules.pause('held');
    clock.set('2026-03-02T12:10:00.500Z');
    const whileOff = await tick();
    expect(whileOff.results.filter((r) => r.key !== '').map((r) => [r.key, r.outcome])).toEqual([
      ['held', 'paused'],
      ['off', 'disabled'],
    ]);
    await schedules.upsert({ key: 'off', schedule: '* * * * * *', enabled: true });
    await schedules.resume('held');
    clock.set('2026-03-02T12:10:01.100Z');
    await tick();
    const ranges = async (key: string) =>
      skipped((await runsOf(store, 'tenant')).filter((r) => r.key === key)).map((r) => [
        r.skipReason,
        r.slotAt.toISOString(),
        r.rangeLastSlotAt?.toISOString(),
        r.slotCount,
      ]);
    // Every slot from the one after the last run to the last one before the change, in one range each, with its true reason.
    expect(await ranges('off')).toEqual([['disabled', '2026-03-02T12:00:01.000Z', '2026-03-02T12:10:00.000Z', 600]]);
    expect(await ranges('held')).toEqual([['paused', '2026-03-02T12:00:01.000Z', '2026-03-02T12:10:00.000Z', 600]]);
    expect((await runsOf(store, 'tenant')).filter((r) => r.status === 'skipped').find((r) => r.key === 'off')?.message).toContain(
      'the schedule was disabled',
    );
    const [off] = await store.getStates([{ code: 'tenant', key: 'off' }]);
    expect(off).toMatchObject({ lastSkipReason: 'disabled' });
  });
});

function emptyState(code: string, createdAt: string) {
  return initialJobState({ code, key: '' }, at(createdAt));
}

function compiled(job: ReturnType<typeof defineJob>) {
  return jobSchedule(job, 'UTC', null);
}
