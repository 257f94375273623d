import { DEFAULT_SCHEDULE_KEY, type Clock, type JobRegistry, type RunRecord, type Store } from '@tickwork/core';
import type { FastifyInstance } from 'fastify';
import { codeParams, runsQuery } from './schemas.js';

/** What the job routes need. */
export interface JobRoutesDeps {
  jobs: JobRegistry;
  store: Store;
  clock: Clock;
}

/** Jobs with their runtime state, the run log, and "run now" — a small window on the database scheduler. */
export function registerJobRoutes(app: FastifyInstance, deps: JobRoutesDeps): void {
  const { jobs, store, clock } = deps;

  app.get('/jobs', async () => {
    const states = await store.getStates(jobs.codes().map((code) => ({ code, key: DEFAULT_SCHEDULE_KEY })));
    return jobs.jobs.map((job) => {
      const state = states.find((s) => s.code === job.code);
      return {
        code: job.code,
        description: job.description,
        schedule: job.schedule,
        enabled: job.enabled,
        paused: state?.paused ?? false,
        lastSlotAt: state?.lastSlotAt ?? null,
        lastStatus: state?.lastStatus ?? null,
        lastFinishedAt: state?.lastFinishedAt ?? null,
        consecutiveFailures: state?.consecutiveFailures ?? 0,
        totalRuns: state?.totalRuns ?? 0,
      };
    });
  });

  app.get<{ Params: { code: string }; Querystring: { limit?: string } }>(
    '/jobs/:code/runs',
    { schema: { params: codeParams, querystring: runsQuery } },
    async (request) => {
      const job = jobs.get(request.params.code);
      const page = await store.queryRuns({ code: job.code, limit: Number(request.query.limit ?? 20) });
      return page.runs.map(runView);
    },
  );

  app.post<{ Params: { code: string } }>('/jobs/:code/trigger', { schema: { params: codeParams } }, async (request, reply) => {
    const job = jobs.get(request.params.code);
    const requested = await store.requestRun({ code: job.code, key: DEFAULT_SCHEDULE_KEY }, { now: clock.now(), requestedBy: 'http' });
    return reply.status(202).send({ id: requested.id, code: requested.code, requestedAt: requested.requestedAt });
  });
}

function runView(run: RunRecord) {
  const { token: _token, leaseExpiresAt: _lease, ...rest } = run;
  return rest;
}
