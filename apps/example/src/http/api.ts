import type { MikroORM } from '@mikro-orm/core';
import { createScheduler, type Clock, type JobRegistry, type Store } from '@tickwork/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAttendanceRoutes } from './attendance-routes.js';
import { registerJobRoutes } from './job-routes.js';
import { sendProblem } from './problems.js';

/** Health as `/healthz` reports it: 200 when `ok`, else 503. */
export interface HealthReport {
  ok: boolean;
  [detail: string]: unknown;
}

/** What the HTTP API is built from. */
export interface HttpApiDeps {
  orm: MikroORM;
  store: Store;
  jobs: JobRegistry;
  clock: Clock;
  health(): Promise<HealthReport>;
  /** Prometheus text and its content type (the daemon's registry), or null without a daemon. */
  metrics: (() => Promise<{ contentType: string; text: string }>) | null;
  /** Log requests (Fastify's pino logger at this level); false for none. */
  logLevel: string | false;
  /** Default zone of runtime schedules that name none (the config's). Default 'UTC'. */
  timezone?: string;
}

/** Builds the Fastify application (not listening yet). */
export function buildHttpApi(deps: HttpApiDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logLevel === false ? false : { level: deps.logLevel },
    // No coercion and no silent stripping: a wrong type or an unknown field is a 400 naming it.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  app.setErrorHandler(sendProblem);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `[tickwork] [example] no route ${request.method} ${request.url}` }),
  );

  app.get('/', async () => ({
    name: 'tickwork example: attendance service',
    try: ['/groups', '/events', '/events/1', '/jobs', '/jobs/attendance.mark-absent/runs', '/jobs/app.event-reminder/schedules', '/healthz', '/metrics'],
  }));
  app.get('/healthz', async (_request, reply) => {
    const health = await deps.health().catch((error: unknown) => ({ ok: false, reason: String(error) }));
    return reply.status(health.ok ? 200 : 503).send(health);
  });
  app.get('/metrics', async (_request, reply) => {
    if (!deps.metrics) return reply.status(404).send({ statusCode: 404, error: 'Not Found', message: '[tickwork] [example] no daemon in this process (EXAMPLE_DAEMON=0): no metrics' });
    const { contentType, text } = await deps.metrics();
    return reply.type(contentType).send(text);
  });

  const scheduler = createScheduler({ jobs: deps.jobs, store: deps.store, clock: deps.clock, timezone: deps.timezone ?? 'UTC' });
  registerAttendanceRoutes(app, { orm: deps.orm, clock: deps.clock, scheduler });
  registerJobRoutes(app, { jobs: deps.jobs, store: deps.store, clock: deps.clock, scheduler });
  return app;
}
