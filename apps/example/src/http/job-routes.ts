import {
  DEFAULT_SCHEDULE_KEY,
  every,
  once,
  type Clock,
  type JobRegistry,
  type RunRecord,
  type RuntimeSchedule,
  type ScheduleDefinition,
  type Scheduler,
  type Store,
} from '@tickwork/core';
import type { Dashboard } from '@tickwork/dashboard';
import type { FastifyInstance } from 'fastify';
import { PREFIX } from '../errors.js';
import { principalOf } from './api.js';
import { codeParams, runsQuery, scheduleBody, scheduleParams, schedulesQuery } from './schemas.js';

/** What the job routes need. */
export interface JobRoutesDeps {
  jobs: JobRegistry;
  store: Store;
  clock: Clock;
  scheduler: Scheduler;
  /** Writes the audit row of each mutation (who comes from the guard in api.ts). */
  dashboard: Dashboard;
}

/** Body of PUT /jobs/:code/schedules/:key: exactly one of cron, every, at. */
interface ScheduleBody {
  cron?: string;
  every?: string;
  at?: string;
  timezone?: string;
  payload?: unknown;
  enabled?: boolean;
  description?: string;
}

/** Jobs with their runtime state, the run log, and "run now" — a small window on the database scheduler. */
export function registerJobRoutes(app: FastifyInstance, deps: JobRoutesDeps): void {
  const { jobs, store, clock, scheduler, dashboard } = deps;

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

  // Runtime schedules of a job (the database scheduler's admin): list, create or replace, remove.
  app.get<{ Params: { code: string }; Querystring: { cursor?: string; limit?: string } }>(
    '/jobs/:code/schedules',
    { schema: { params: codeParams, querystring: schedulesQuery } },
    async (request) => {
      const { cursor, limit } = request.query;
      const page = await scheduler.schedules(request.params.code).list({ ...(cursor ? { cursor } : {}), limit: Number(limit ?? 100) });
      return { schedules: page.schedules.map(scheduleView), nextCursor: page.nextCursor };
    },
  );

  app.put<{ Params: { code: string; key: string }; Body: ScheduleBody }>(
    '/jobs/:code/schedules/:key',
    { schema: { params: scheduleParams, body: scheduleBody } },
    async (request, reply) => {
      const { cron, every: interval, at, ...rest } = request.body;
      const definition: ScheduleDefinition = {
        key: request.params.key,
        schedule: cron ?? (interval !== undefined ? every(interval) : once(at as string)),
        ...rest,
      };
      const schedules = scheduler.schedules(request.params.code);
      const before = await schedules.get(request.params.key);
      const stored = await schedules.upsert(definition);
      await dashboard.audit(
        principalOf(request),
        before ? 'schedule.update' : 'schedule.create',
        { code: request.params.code, key: request.params.key },
        before,
        stored,
      );
      return reply.status(before ? 200 : 201).send(scheduleView(stored));
    },
  );

  app.delete<{ Params: { code: string; key: string } }>(
    '/jobs/:code/schedules/:key',
    { schema: { params: scheduleParams } },
    async (request, reply) => {
      const schedules = scheduler.schedules(request.params.code);
      const before = await schedules.get(request.params.key);
      const removed = await schedules.remove(request.params.key);
      if (removed)
        await dashboard.audit(
          principalOf(request),
          'schedule.remove',
          { code: request.params.code, key: request.params.key },
          before,
          null,
        );
      if (!removed) {
        return reply.status(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: `${PREFIX} job "${request.params.code}" has no runtime schedule "${request.params.key}"`,
        });
      }
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { code: string } }>('/jobs/:code/trigger', { schema: { params: codeParams } }, async (request, reply) => {
    const job = jobs.get(request.params.code);
    const principal = principalOf(request);
    const requested = await store.requestRun(
      { code: job.code, key: DEFAULT_SCHEDULE_KEY },
      { now: clock.now(), requestedBy: `http:${principal.name}` },
    );
    await dashboard.audit(principal, 'job.trigger', { code: job.code, key: DEFAULT_SCHEDULE_KEY }, null, { request: requested.id });
    return reply.status(202).send({ id: requested.id, code: requested.code, requestedAt: requested.requestedAt });
  });
}

function scheduleView(schedule: RuntimeSchedule) {
  const { version, ...rest } = schedule;
  return { ...rest, version };
}

function runView(run: RunRecord) {
  const { token: _token, leaseExpiresAt: _lease, ...rest } = run;
  return rest;
}
