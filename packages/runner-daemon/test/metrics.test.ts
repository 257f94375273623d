import { createMemoryStore, createScheduler, defineJob, silentLogger, type RunContext } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { createDaemon, DaemonOptionError, type DaemonHandle } from '../src/index.js';

/** One Prometheus sample: `name{labels} value`, as scraped. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (what a scraper reads), refusing lines it cannot read. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(daemon: DaemonHandle): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${daemon.address?.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseExposition(await response.text());
}

/** Scrapes until `check` holds (generous deadline: a busy CI box). */
async function scrapeUntil(daemon: DaemonHandle, check: (samples: Sample[]) => boolean, what: string): Promise<Sample[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const samples = await scrape(daemon);
    if (check(samples)) return samples;
    if (Date.now() > deadline)
      throw new Error(
        `metrics never showed ${what}:\n${samples.map((s) => `${s.name} ${JSON.stringify(s.labels)} ${s.value}`).join('\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('per-job metrics on /metrics', () => {
  it('runs by status, lateness per job, skips by reason and the failure streak, one series per job for its runtime schedules', async () => {
    const store = createMemoryStore();
    let failing = true;
    const flaky = defineJob({
      code: 'flaky',
      schedule: '* * * * * *',
      run: () => {
        if (failing) throw new Error('upstream down');
      },
    });
    // Each run holds its lease past the next second's slot, so that slot is skipped (overlap policy skip).
    const slow = defineJob({ code: 'slow', schedule: '* * * * * *', run: () => new Promise((resolve) => setTimeout(resolve, 1_500)) });
    const tenants = defineJob({ code: 'tenants', schedule: null, run: () => undefined });
    await createScheduler({ jobs: [tenants], store })
      .schedules('tenants')
      .upsert([
        { key: 'tenant-1', schedule: '* * * * * *' },
        { key: 'tenant-2', schedule: '* * * * * *' },
        { key: 'tenant-3', schedule: '* * * * * *' },
      ]);
    const daemon = createDaemon(
      { jobs: [flaky, slow, tenants], store },
      { logger: silentLogger, http: { port: 0 }, runnerId: 'm-1', storeClock: false },
    );
    try {
      await daemon.ready;
      let samples = await scrapeUntil(
        daemon,
        (s) =>
          (value(s, 'tickwork_failure_streak', { job: 'flaky' }) ?? 0) >= 2 &&
          (value(s, 'tickwork_skipped_total', { job: 'slow', reason: 'overlap' }) ?? 0) >= 1 &&
          (value(s, 'tickwork_runs_total', { job: 'tenants', status: 'succeeded' }) ?? 0) >= 6,
        'a failure streak of 2, an overlap skip and 6 tenant runs',
      );
      const failed = value(samples, 'tickwork_runs_total', { job: 'flaky', status: 'failed' })!;
      expect(failed).toBeGreaterThanOrEqual(value(samples, 'tickwork_failure_streak', { job: 'flaky' })!);
      expect(value(samples, 'tickwork_runs_total', { job: 'slow', status: 'skipped' })).toBe(
        value(samples, 'tickwork_skipped_total', { job: 'slow', reason: 'overlap' }),
      );
      for (const job of ['flaky', 'slow', 'tenants']) {
        expect(value(samples, 'tickwork_run_lateness_seconds_count', { job, runner: 'm-1' })).toBeGreaterThan(0);
      }
      // Bounded cardinality: three runtime schedules, one series per metric, and no key label anywhere.
      expect(samples.filter((s) => s.name === 'tickwork_runs_total' && s.labels.job === 'tenants')).toHaveLength(1);
      expect(samples.filter((s) => s.name === 'tickwork_run_lateness_seconds_count' && s.labels.job === 'tenants')).toHaveLength(1);
      expect(samples.some((s) => 'key' in s.labels)).toBe(false);

      failing = false;
      samples = await scrapeUntil(
        daemon,
        (s) => value(s, 'tickwork_failure_streak', { job: 'flaky' }) === 0,
        'the streak ended by a success',
      );
      expect(value(samples, 'tickwork_runs_total', { job: 'flaky', status: 'succeeded' })).toBeGreaterThanOrEqual(1);
    } finally {
      await daemon.stop();
    }
  });

  it('metricsPerKey labels every per-job series with the schedule key', async () => {
    const store = createMemoryStore();
    const tenants = defineJob({
      code: 'tenants',
      schedule: null,
      run: (ctx: RunContext) => {
        if (ctx.key === 'tenant-2') throw new Error('no');
      },
    });
    await createScheduler({ jobs: [tenants], store })
      .schedules('tenants')
      .upsert([
        { key: 'tenant-1', schedule: '* * * * * *' },
        { key: 'tenant-2', schedule: '* * * * * *' },
      ]);
    const daemon = createDaemon(
      { jobs: [tenants], store },
      { logger: silentLogger, http: { port: 0 }, runnerId: 'm-2', storeClock: false, metricsPerKey: true },
    );
    try {
      await daemon.ready;
      const samples = await scrapeUntil(
        daemon,
        (s) =>
          (value(s, 'tickwork_failure_streak', { job: 'tenants', key: 'tenant-2' }) ?? 0) >= 2 &&
          (value(s, 'tickwork_runs_total', { key: 'tenant-1', status: 'succeeded' }) ?? 0) >= 2,
        'per-key series',
      );
      expect(value(samples, 'tickwork_runs_total', { job: 'tenants', key: 'tenant-2', status: 'succeeded' })).toBeUndefined();
      expect(value(samples, 'tickwork_run_lateness_seconds_count', { job: 'tenants', key: 'tenant-1' })).toBeGreaterThan(0);
    } finally {
      await daemon.stop();
    }
  });

  it('refuses a metricsPerKey that is not a boolean, naming the option', () => {
    const job = defineJob({ code: 'j', schedule: '* * * * *', run: () => undefined });
    expect(() => createDaemon({ jobs: [job], store: createMemoryStore() }, { metricsPerKey: 'yes' as unknown as boolean })).toThrow(
      DaemonOptionError,
    );
    expect(() => createDaemon({ jobs: [job], store: createMemoryStore() }, { metricsPerKey: 'yes' as unknown as boolean })).toThrow(
      /metricsPerKey: expected true or false/,
    );
  });
});
