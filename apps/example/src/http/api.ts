import type { MikroORM } from '@mikro-orm/core';
import { createScheduler, type Clock, type JobRegistry, type Store } from '@tickwork/core';
import { dashboardPlugin, DashboardHttpError, type Dashboard, type Principal, type Role } from '@tickwork/dashboard';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { PREFIX } from '../errors.js';
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
  /** The web admin, mounted at its base path; its auth, roles, CSRF and audit also guard `/jobs/...`. */
  dashboard: Dashboard;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** Who made a `/jobs/...` request (set by the guard before the route runs). */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error(`${PREFIX} no principal: the /jobs guard did not run`);
  return principal;
}

/** The role a management route needs: reads viewer, pause/resume/trigger operator, runtime-schedule edits admin (as in the dashboard). */
function roleFor(method: string, url: string): Role {
  if (method === 'GET' || method === 'HEAD') return 'viewer';
  return /^\/jobs\/[^/]+\/schedules\//.test(url) ? 'admin' : 'operator';
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
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `${PREFIX} no route ${request.method} ${request.url}` }),
  );

  app.get('/', async () => ({
    name: 'tickwork example: attendance service',
    try: [
      '/dashboard/',
      '/groups',
      '/events',
      '/events/1',
      '/jobs',
      '/jobs/attendance.mark-absent/runs',
      '/jobs/app.event-reminder/schedules',
      '/healthz',
      '/metrics',
    ],
  }));
  app.get('/healthz', async (_request, reply) => {
    const health = await deps.health().catch((error: unknown) => ({ ok: false, reason: String(error) }));
    return reply.status(health.ok ? 200 : 503).send(health);
  });
  app.get('/metrics', async (_request, reply) => {
    if (!deps.metrics)
      return reply.status(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: `${PREFIX} no daemon in this process (EXAMPLE_DAEMON=0): no metrics`,
      });
    const { contentType, text } = await deps.metrics();
    return reply.type(contentType).send(text);
  });

  // The example's management routes follow the dashboard's rules: no anonymous access, roles, CSRF for cookie sessions.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path !== '/jobs' && !path.startsWith('/jobs/')) return;
    const mutation = request.method !== 'GET' && request.method !== 'HEAD';
    try {
      principals.set(
        request,
        await deps.dashboard.guard(request.raw, { role: roleFor(request.method, path), mutation, what: `${request.method} ${path}` }),
      );
    } catch (error) {
      if (!(error instanceof DashboardHttpError)) throw error;
      return reply
        .status(error.status)
        .send({ statusCode: error.status, error: error.status === 401 ? 'Unauthorized' : 'Forbidden', message: error.message });
    }
  });
  app.register(dashboardPlugin(deps.dashboard));

  const scheduler = createScheduler({ jobs: deps.jobs, store: deps.store, clock: deps.clock, timezone: deps.timezone ?? 'UTC' });
  registerAttendanceRoutes(app, { orm: deps.orm, clock: deps.clock, scheduler });
  registerJobRoutes(app, { jobs: deps.jobs, store: deps.store, clock: deps.clock, scheduler, dashboard: deps.dashboard });
  return app;
}
