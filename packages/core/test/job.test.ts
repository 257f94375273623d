import { describe, expect, it } from 'vitest';
import {
  createRegistry,
  cron,
  dailyAt,
  defineJob,
  DuplicateJobError,
  every,
  InvalidJobError,
  InvalidScheduleError,
  parseDuration,
  UnknownJobError,
  type RunContext,
} from '../src/index.js';
import { CronJob } from '../src/entry/runner.js';

const noop = () => undefined;

describe('defineJob', () => {
  it('resolves defaults a django-cron user expects', () => {
    const job = defineJob({ code: 'report', schedule: every('5m'), run: noop });
    expect(job).toMatchObject({
      code: 'report',
      allowParallelRuns: false,
      retryAfterFailureMs: null,
      timeoutMs: null,
      failuresBeforeAlert: 1,
      enabled: true,
      missedRunPolicy: 'latest',
      leaseTtlMs: 30_000,
      jitterMs: 0,
    });
    expect(Object.isFrozen(job)).toBe(true);
    expect(job.overlapPolicy).toBe('skip');
  });

  it('takes an overlap policy; allowParallelRuns: true is allowAll', () => {
    expect(defineJob({ code: 'a', schedule: every('1m'), run: noop, overlapPolicy: 'bufferAll' })).toMatchObject({
      overlapPolicy: 'bufferAll',
      allowParallelRuns: false,
    });
    expect(defineJob({ code: 'b', schedule: every('1m'), run: noop, allowParallelRuns: true })).toMatchObject({
      overlapPolicy: 'allowAll',
      allowParallelRuns: true,
    });
    expect(
      defineJob({ code: 'c', schedule: every('1m'), run: noop, allowParallelRuns: true, overlapPolicy: 'allowAll' }).overlapPolicy,
    ).toBe('allowAll');
    expect(
      defineJob({ code: 'd', schedule: every('1m'), run: noop, allowParallelRuns: false, overlapPolicy: 'cancelOther' }).overlapPolicy,
    ).toBe('cancelOther');
  });

  it('parses durations and policies into milliseconds', () => {
    const job = defineJob({
      code: 'sync',
      schedule: '*/5 * * * *',
      run: noop,
      retryAfterFailure: '10m',
      timeout: { minutes: 1, seconds: 30 },
      missedRunPolicy: { all: { within: '2h' } },
      jitter: '20s',
      startAt: '2026-01-01T00:00:00Z',
      expiresAt: new Date('2027-01-01T00:00:00Z'),
    });
    expect(job.retryAfterFailureMs).toBe(600_000);
    expect(job.timeoutMs).toBe(90_000);
    expect(job.missedRunPolicy).toEqual({ all: { withinMs: 7_200_000 } });
    expect(job.jitterMs).toBe(20_000);
    expect(job.startAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it.each([
    [{ code: '' }, /code must be a non-empty string/],
    [{ code: 'has space' }, /code "has space" may hold only/],
    [{ code: 'tab\tcode' }, /may hold only/],
    [{ retryAfterFaliure: '5m' }, /job "x": retryAfterFaliure is not a known option \(did you mean "retryAfterFailure"\?\)/],
    [{ timeout: 0 }, /job "x": timeout: duration must be a positive/],
    [{ timeout: -5 }, /job "x": timeout: duration must be a positive/],
    [{ timeout: 'soon' }, /job "x": timeout: "soon" is not a duration/],
    [{ startAt: '2026-02-01T00:00:00Z', expiresAt: '2026-01-01T00:00:00Z' }, /job "x": expiresAt .* must be after startAt/],
    [{ startAt: 'yesterday-ish' }, /job "x": startAt: "yesterday-ish" is not a valid instant/],
    [{ failuresBeforeAlert: 0 }, /job "x": failuresBeforeAlert must be an integer ≥ 1/],
    [{ interruptedRetries: -1 }, /job "x": interruptedRetries must be an integer ≥ 0/],
    [{ interruptedRetries: 1.5 }, /job "x": interruptedRetries must be an integer ≥ 0, got 1.5/],
    [{ interruptedRetries: '2' }, /job "x": interruptedRetries must be an integer ≥ 0, got 2/],
    [
      { overlapPolicy: 'bufferTwo' },
      /job "x": overlapPolicy must be one of skip, bufferOne, bufferAll, cancelOther, allowAll, got "bufferTwo" \(did you mean "bufferOne"\?\)/,
    ],
    [{ overlapPolicy: 7 }, /job "x": overlapPolicy must be one of skip, bufferOne, bufferAll, cancelOther, allowAll, got 7/],
    [{ overlapPolicy: 'bufferOne', allowParallelRuns: true }, /job "x": overlapPolicy 'bufferOne' contradicts allowParallelRuns: true/],
    [{ missedRunPolicy: 'sometimes' }, /job "x": missedRunPolicy must be 'latest', 'skip'/],
    [{ allowParallelRuns: 'yes' }, /job "x": allowParallelRuns must be true or false/],
    [{ run: 'not a function' }, /job "x": run must be a function/],
    [{ timeout: '25d' }, /job "x": timeout: duration must be at most 2147483647 ms/],
    [{ leaseTtl: '90d' }, /job "x": leaseTtl: duration must be at most 2147483647 ms/],
    [{ leaseTtl: 0.4 }, /job "x": leaseTtl: duration must be a positive, finite length of time \(at least 1 ms\)/],
  ])('rejects %o with a message naming the job and field', (patch, message) => {
    const definition = { code: 'x', schedule: every('1m'), run: noop, ...patch } as never;
    expect(() => defineJob(definition)).toThrow(InvalidJobError);
    expect(() => defineJob(definition)).toThrow(message);
  });

  it.each([
    ['61 * * * *', /job "x": schedule/],
    ['* * * * * * * *', /job "x": schedule/],
  ])('rejects the malformed cron %s naming the job', (expression, message) => {
    expect(() => defineJob({ code: 'x', schedule: expression, run: noop })).toThrow(InvalidScheduleError);
    expect(() => defineJob({ code: 'x', schedule: expression, run: noop })).toThrow(message);
  });

  it('rejects an unknown timezone naming the field', () => {
    expect(() => defineJob({ code: 'x', schedule: dailyAt('06:00'), timezone: 'Mars/Olympus', run: noop })).toThrow(
      /job "x": timezone.*Mars\/Olympus/,
    );
  });

  it('rejects zero, negative and NaN intervals and impossible times when the schedule is built', () => {
    expect(() => every(0)).toThrow(InvalidScheduleError);
    expect(() => every('-5m')).toThrow(InvalidScheduleError);
    expect(() => every(Number.NaN)).toThrow(InvalidScheduleError);
    expect(() => defineJob({ code: 'x', schedule: dailyAt('25:00'), run: noop })).toThrow(InvalidScheduleError);
  });
});

describe('registry', () => {
  it('rejects duplicate codes', () => {
    const a = defineJob({ code: 'same', schedule: every('1m'), run: noop });
    const b = defineJob({ code: 'same', schedule: cron('0 * * * *'), run: noop });
    expect(() => createRegistry([a, b])).toThrow(DuplicateJobError);
    expect(() => createRegistry([a, b])).toThrow(/job "same": code is registered twice/);
  });

  it('names the known codes when asked for an unknown one', () => {
    const registry = createRegistry([
      { code: 'a', schedule: every('1m'), run: noop },
      { code: 'b', schedule: every('1m'), run: noop },
    ]);
    expect(() => registry.get('c')).toThrow(UnknownJobError);
    expect(() => registry.get('c')).toThrow('unknown job code "c"; known codes: a, b');
    expect(registry.codes()).toEqual(['a', 'b']);
  });

  it('accepts class-style jobs like django-cron CronJobBase subclasses', async () => {
    const seen: string[] = [];
    class NightlyCleanup extends CronJob {
      readonly code = 'cleanup.nightly';
      readonly schedule = dailyAt('03:00', { timezone: 'Europe/Paris' });
      readonly allowParallelRuns = true;
      readonly retryAfterFailure = '15m';
      run(ctx: RunContext) {
        seen.push(ctx.code);
      }
    }
    const registry = createRegistry([new NightlyCleanup()]);
    const job = registry.get('cleanup.nightly');
    expect(job.allowParallelRuns).toBe(true);
    expect(job.retryAfterFailureMs).toBe(900_000);
    await job.run({ code: 'cleanup.nightly' } as RunContext);
    expect(seen).toEqual(['cleanup.nightly']);
  });

  it('keeps hooks a class-style job defines as methods, such as onFailure', async () => {
    const alerts: string[] = [];
    class Alerting extends CronJob {
      readonly code = 'alerting';
      readonly schedule = every('1m');
      run() {}
      onFailure(ctx: { code: string }) {
        alerts.push(`${ctx.code} via ${this.code}`);
      }
    }
    const job = createRegistry([new Alerting()]).get('alerting');
    await job.onFailure?.({ code: 'alerting' } as never);
    expect(alerts).toEqual(['alerting via alerting']);
  });

  it('rejects a class-style job with a misspelt option', () => {
    class Typo extends CronJob {
      readonly code = 'typo';
      readonly schedule = every('1m');
      readonly timout = '5m';
      run() {}
    }
    expect(() => createRegistry([new Typo()])).toThrow(/job "typo": timout is not a known option \(did you mean "timeout"\?\)/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['250ms', 250],
    [1500, 1500],
    [{ hours: 1, minutes: 1 }, 3_660_000],
  ])('parses %o', (input, ms) => {
    expect(parseDuration(input, 'x')).toBe(ms);
  });

  it.each(['', '5 minutes', 'm5', '1h 30m', '-1s'])('rejects %o', (input) => {
    expect(() => parseDuration(input, 'field')).toThrow(/field: .* is not a duration|field: duration must be/);
  });
});
