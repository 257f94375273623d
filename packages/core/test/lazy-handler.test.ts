import { describe, expect, it } from 'vitest';
import { createFakeClock, createMemoryStore, defineJob, runDue } from '../src/index.js';

const T0 = '2026-03-02T12:00:30.000Z';

describe('lazily loaded handlers', () => {
  it('run: () => import(module) runs the module’s default export with the run’s context, loading it only when the job runs', async () => {
    let loads = 0;
    const jobs = [
      defineJob({
        code: 'reports.lazy',
        schedule: '* * * * *',
        run: () => {
          loads++;
          return import('./fixtures/lazy-report.js');
        },
      }),
    ];
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    expect(loads).toBe(0);
    const report = await runDue({ jobs, store, clock, runnerId: 'r' });
    expect(loads).toBe(1);
    expect(report.results.map((r) => [r.outcome, r.run?.message])).toEqual([
      ['succeeded', 'report for 2026-03-02T12:00:00.000Z (payload null)'],
    ]);
  });

  it('a module with no handler export fails the run with a message naming the job', async () => {
    const jobs = [defineJob({ code: 'reports.broken', schedule: '* * * * *', run: () => import('./fixtures/lazy-no-handler.js') })];
    const report = await runDue({ jobs, store: createMemoryStore(), clock: createFakeClock(T0), runnerId: 'r' });
    expect(report.results[0]?.outcome).toBe('failed');
    expect(report.results[0]?.run?.error).toMatch(
      /job "reports\.broken": run resolved to a module with neither a default nor a `run` export/,
    );
  });
});
