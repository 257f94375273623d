/** The JSON API: one entry per route, with the role it needs and whether it changes anything. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DEFAULT_SCHEDULE_KEY,
  InvalidArgumentError,
  parseDuration,
  type Clock,
  type JobRegistry,
  type RunStatus,
  type Scheduler,
  type ScheduleRef,
  type Store,
} from '@tickwork/core';
import { RUN_STATUSES, type RunQuery } from '@tickwork/core/store';
import type { AccessStore, AuditEntry } from './access-store.js';
import { SESSION_COOKIE, sessionCookie, type Authenticated, type Gate } from './auth.js';
import { DashboardHttpError, isBadInput } from './errors.js';
import { sendJson, stringField } from './http.js';
import type { LiveFeed } from './live.js';
import { isRole, type Role } from './roles.js';
import { compileForm, definitionOfForm } from './schedule-form.js';
import { compiledOf, jobOptions, jobSummary, jobZone, nextSlots, runnerView, runView, scheduleView, stateView } from './views.js';

/** What a route handler gets. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  auth: Authenticated | null;
  body: Record<string, unknown>;
  store: Store;
  registry: JobRegistry;
  scheduler: Scheduler;
  access: AccessStore;
  clock: Clock;
  timezone: string;
  live: LiveFeed;
  gate: Gate;
  basePath: string;
  secureCookie(req: IncomingMessage): boolean;
  audit(auth: Authenticated, action: string, target: AuditEntry['target'], before: unknown, after: unknown): Promise<void>;
}

/** One API route. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Segments after the base path; `:name` captures one. */
  path: string[];
  /** Null: no sign-in needed (only signing in itself). */
  role: Role | null;
  mutation: boolean;
  /** A `:code` param must name a job defined in code (404 otherwise). */
  code: boolean;
  /** What it does, for a 403's message. */
  what: string;
  run(ctx: RouteContext): Promise<void>;
}

/** How many runtime schedules the jobs page counts per job before it says "1,000+". */
export const SCHEDULE_COUNT_CAP = 1_000;

const route = (method: Route['method'], path: string, role: Role | null, what: string, run: Route['run']): Route => ({
  method,
  path: path.split('/').slice(1),
  role,
  mutation: method !== 'GET',
  code: path.includes(':code'),
  what,
  run,
});

const ok = (ctx: RouteContext, body: unknown, status = 200) => sendJson(ctx.res, status, body);
const ref = (ctx: RouteContext, key: string = DEFAULT_SCHEDULE_KEY): ScheduleRef => ({ code: ctx.params.code as string, key });

/** The job's own state, or a runtime schedule's; 404 for a runtime key that does not exist. */
async function existingSchedule(ctx: RouteContext, key: string) {
  const [schedule] = await ctx.store.getSchedules([ref(ctx, key)]);
  if (!schedule) throw new DashboardHttpError(404, `job "${ctx.params.code}" has no runtime schedule "${key}"`);
  return schedule;
}

const counts = new WeakMap<Store, { revision: string; counts: Map<string, { count: number; more: boolean }> }>();

/** Runtime-schedule counts per job, up to {@link SCHEDULE_COUNT_CAP} each, cached until the store's schedule revision moves. */
async function scheduleCounts(store: Store, codes: readonly string[]) {
  const revision = await store.schedulesRevision();
  let cached = counts.get(store);
  if (!cached || cached.revision !== revision) {
    cached = { revision, counts: new Map() };
    counts.set(store, cached);
  }
  const entry = cached;
  await Promise.all(
    codes
      .filter((code) => !entry.counts.has(code))
      .map(async (code) => {
        const page = await store.listSchedules({ code, limit: SCHEDULE_COUNT_CAP });
        entry.counts.set(code, { count: page.schedules.length, more: page.nextCursor !== null });
      }),
  );
  return entry.counts;
}

function instantParam(query: URLSearchParams, field: string): Date | undefined {
  const value = query.get(field);
  if (value === null || value === '') return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new DashboardHttpError(400, `${field}: ${JSON.stringify(value)} is not an instant`, field);
  return d;
}

function limitParam(query: URLSearchParams, fallback: number, max: number): number {
  const value = query.get('limit');
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new DashboardHttpError(400, `limit must be a whole number 1 … ${max}, got ${JSON.stringify(value)}`, 'limit');
  return n;
}

async function pauseOrResume(ctx: RouteContext, key: string, paused: boolean): Promise<void> {
  const auth = ctx.auth as Authenticated;
  const note = paused ? (stringField(ctx.body, 'note', { max: 500 }) ?? null) : null;
  if (key !== DEFAULT_SCHEDULE_KEY) await existingSchedule(ctx, key);
  const [before] = await ctx.store.getStates([ref(ctx, key)]);
  const state = await ctx.store.setPaused(ref(ctx, key), paused, { now: ctx.clock.now(), ...(paused ? { note } : {}) });
  await ctx.audit(
    auth,
    `${key === DEFAULT_SCHEDULE_KEY ? 'job' : 'schedule'}.${paused ? 'pause' : 'resume'}`,
    ref(ctx, key),
    pauseView(before),
    pauseView(state),
  );
  ok(ctx, { state: stateView(state) });
}

const pauseView = (state: { paused: boolean; pausedNote: string | null } | undefined) => ({
  paused: state?.paused ?? false,
  note: state?.pausedNote ?? null,
});

async function trigger(ctx: RouteContext, key: string): Promise<void> {
  const auth = ctx.auth as Authenticated;
  const job = ctx.registry.get(ctx.params.code as string);
  if (!job.enabled)
    throw new DashboardHttpError(409, `job "${job.code}" is disabled in code (enabled: false): no runner runs it, so no request was filed`);
  if (key !== DEFAULT_SCHEDULE_KEY) {
    const schedule = await existingSchedule(ctx, key);
    if (!schedule.enabled)
      throw new DashboardHttpError(
        409,
        `runtime schedule "${key}" of "${job.code}" is disabled: no runner runs it, so no request was filed`,
      );
  }
  const request = await ctx.store.requestRun(ref(ctx, key), { now: ctx.clock.now(), requestedBy: `dashboard:${auth.principal.name}` });
  await ctx.audit(auth, `${key === DEFAULT_SCHEDULE_KEY ? 'job' : 'schedule'}.trigger`, ref(ctx, key), null, { request: request.id });
  ok(ctx, { request }, 202);
}

async function setEnabled(ctx: RouteContext, enabled: boolean): Promise<void> {
  const key = ctx.params.key as string;
  const before = await existingSchedule(ctx, key);
  const [after] = await ctx.store.upsertSchedules([{ ...before, enabled }], ctx.clock.now());
  await ctx.audit(
    ctx.auth as Authenticated,
    `schedule.${enabled ? 'enable' : 'disable'}`,
    ref(ctx, key),
    { enabled: before.enabled },
    { enabled: after?.enabled ?? enabled },
  );
  ok(ctx, { schedule: after });
}

/** Every API route. */
export const routes: readonly Route[] = [
  route('POST', '/api/session', null, 'signing in', async (ctx) => {
    const { sessionId, principal, csrf } = await ctx.gate.signIn(ctx.body.token);
    const cookie = sessionCookie(sessionId, ctx.basePath, ctx.secureCookie(ctx.req));
    sendJson(ctx.res, 200, { name: principal.name, role: principal.role, csrf }, { 'set-cookie': cookie });
  }),
  route('DELETE', '/api/session', 'viewer', 'signing out', async (ctx) => {
    ctx.gate.signOut(ctx.req);
    sendJson(
      ctx.res,
      200,
      { signedOut: true },
      { 'set-cookie': `${SESSION_COOKIE}=; Path=${ctx.basePath || '/'}; Max-Age=0; HttpOnly; SameSite=Strict` },
    );
  }),
  route('GET', '/api/me', 'viewer', 'reading who you are', async (ctx) => {
    const auth = ctx.auth as Authenticated;
    ok(ctx, {
      name: auth.principal.name,
      role: auth.principal.role,
      via: auth.principal.via,
      csrf: auth.csrf,
      timezone: ctx.timezone,
      store: ctx.store.name,
      runners: typeof ctx.store.listRunners === 'function',
    });
  }),
  route('GET', '/api/jobs', 'viewer', 'reading jobs', async (ctx) => {
    const now = ctx.clock.now();
    const jobs = ctx.registry.jobs;
    const [states, pending, schedules] = await Promise.all([
      ctx.store.getStates(jobs.map((job) => ({ code: job.code, key: DEFAULT_SCHEDULE_KEY }))),
      ctx.store.pendingRunRequests({ limit: 10_000 }),
      scheduleCounts(ctx.store, ctx.registry.codes()),
    ]);
    const stateOf = new Map(states.map((s) => [s.code, s]));
    const pendingOf = new Map<string, number>();
    for (const request of pending) pendingOf.set(request.code, (pendingOf.get(request.code) ?? 0) + 1);
    ok(ctx, {
      now,
      jobs: jobs.map((job) =>
        jobSummary(job, stateOf.get(job.code), ctx.timezone, now, {
          pending: pendingOf.get(job.code) ?? 0,
          runtimeSchedules: schedules.get(job.code) ?? { count: 0, more: false },
        }),
      ),
    });
  }),
  route('GET', '/api/jobs/:code', 'viewer', 'reading a job', async (ctx) => {
    const now = ctx.clock.now();
    const job = ctx.registry.get(ctx.params.code as string);
    const [[state], pending, schedules] = await Promise.all([
      ctx.store.getStates([ref(ctx)]),
      ctx.store.pendingRunRequests({ codes: [job.code], limit: 100 }),
      scheduleCounts(ctx.store, [job.code]),
    ]);
    const summary = jobSummary(job, state, ctx.timezone, now, {
      pending: pending.length,
      runtimeSchedules: schedules.get(job.code) ?? { count: 0, more: false },
    });
    const compiled = summary.schedule ? compiledOf(job, ctx.timezone, state).schedule : null;
    ok(ctx, {
      now,
      job: summary,
      options: jobOptions(job),
      nextSlots: compiled ? nextSlots(compiled, now, 5, summary.timezone) : [],
      pending,
    });
  }),
  route('GET', '/api/jobs/:code/runs', 'viewer', 'reading runs', async (ctx) => {
    const query: RunQuery = { code: ctx.params.code as string, limit: limitParam(ctx.query, 50, 200) };
    const status = ctx.query.get('status');
    if (status) {
      const list = status.split(',').filter((s) => s !== '');
      const bad = list.find((s) => !(RUN_STATUSES as readonly string[]).includes(s));
      if (bad !== undefined)
        throw new DashboardHttpError(400, `status: "${bad}" is not a run status (${RUN_STATUSES.join(', ')})`, 'status');
      query.status = list as RunStatus[];
    }
    const key = ctx.query.get('key');
    if (key !== null) query.key = key;
    const since = instantParam(ctx.query, 'since');
    const until = instantParam(ctx.query, 'until');
    if (since) query.since = since;
    if (until) query.until = until;
    const cursor = ctx.query.get('cursor');
    if (cursor) query.cursor = cursor;
    try {
      const page = await ctx.store.queryRuns(query);
      ok(ctx, { runs: page.runs.map(runView), nextCursor: page.nextCursor });
    } catch (error) {
      if (isBadInput(error) && /cursor/i.test(error.message)) throw new DashboardHttpError(400, error.message, 'cursor');
      throw error;
    }
  }),
  route('GET', '/api/runs/:id', 'viewer', 'reading a run', async (ctx) => {
    const run = await ctx.store.getRun(ctx.params.id as string);
    if (!run) throw new DashboardHttpError(404, `no run with id "${ctx.params.id}"`);
    // Times are shown in the job's zone, as on its page (the configured zone for a job no longer defined).
    const job = ctx.registry.has(run.code) ? ctx.registry.get(run.code) : null;
    const zone = job ? jobZone(job, compiledOf(job, ctx.timezone, undefined).schedule, ctx.timezone) : ctx.timezone;
    ok(ctx, { run: runView(run), zone });
  }),
  route('GET', '/api/runners', 'viewer', 'reading the runners', async (ctx) => {
    const now = ctx.clock.now();
    const runners = ctx.store.listRunners ? (await ctx.store.listRunners({ now })).map(runnerView) : null;
    ok(ctx, { now, presence: ctx.store.capabilities.runnerPresence ?? null, runners });
  }),
  route('GET', '/api/jobs/:code/schedules', 'viewer', 'reading runtime schedules', async (ctx) => {
    const now = ctx.clock.now();
    const job = ctx.registry.get(ctx.params.code as string);
    const cursor = ctx.query.get('cursor');
    const page = await ctx.store
      .listSchedules({ code: job.code, limit: limitParam(ctx.query, 50, 500), ...(cursor ? { cursor } : {}) })
      .catch((error: unknown) => {
        if (isBadInput(error) && /cursor/i.test(error.message)) throw new DashboardHttpError(400, error.message, 'cursor');
        throw error;
      });
    const states = page.schedules.length ? await ctx.store.getStates(page.schedules.map((s) => ({ code: s.code, key: s.key }))) : [];
    const stateOf = new Map(states.map((s) => [s.key, s]));
    ok(ctx, {
      schedules: page.schedules.map((s) => scheduleView(job, s, stateOf.get(s.key), ctx.timezone, now)),
      nextCursor: page.nextCursor,
    });
  }),
  route('GET', '/api/jobs/:code/schedules/:key', 'viewer', 'reading a runtime schedule', async (ctx) => {
    const job = ctx.registry.get(ctx.params.code as string);
    const schedule = await existingSchedule(ctx, ctx.params.key as string);
    const [state] = await ctx.store.getStates([schedule]);
    ok(ctx, { schedule: scheduleView(job, schedule, state, ctx.timezone, ctx.clock.now()) });
  }),
  route('POST', '/api/jobs/:code/preview', 'viewer', 'previewing a schedule', async (ctx) => {
    const job = ctx.registry.get(ctx.params.code as string);
    const now = ctx.clock.now();
    const { compiled } = compileForm(job, ctx.body, ctx.timezone);
    ok(ctx, { description: compiled.describe(), zone: compiled.timezone, slots: nextSlots(compiled, now, 5, compiled.timezone) });
  }),
  route('PUT', '/api/jobs/:code/schedules/:key', 'admin', 'creating or changing a runtime schedule', async (ctx) => {
    const job = ctx.registry.get(ctx.params.code as string);
    const key = ctx.params.key as string;
    const definition = definitionOfForm(job, key, ctx.body, ctx.timezone);
    const schedules = ctx.scheduler.schedules(job.code);
    const before = await schedules.get(key);
    const after = await schedules.upsert(definition);
    await ctx.audit(ctx.auth as Authenticated, before ? 'schedule.update' : 'schedule.create', ref(ctx, key), before, after);
    ok(ctx, { schedule: after }, before ? 200 : 201);
  }),
  route('DELETE', '/api/jobs/:code/schedules/:key', 'admin', 'removing a runtime schedule', async (ctx) => {
    const key = ctx.params.key as string;
    const before = await existingSchedule(ctx, key);
    await ctx.scheduler.schedules(ctx.params.code as string).remove(key);
    await ctx.audit(ctx.auth as Authenticated, 'schedule.remove', ref(ctx, key), before, null);
    ok(ctx, { removed: true });
  }),
  route('POST', '/api/jobs/:code/pause', 'operator', 'pausing a job', (ctx) => pauseOrResume(ctx, DEFAULT_SCHEDULE_KEY, true)),
  route('POST', '/api/jobs/:code/resume', 'operator', 'resuming a job', (ctx) => pauseOrResume(ctx, DEFAULT_SCHEDULE_KEY, false)),
  route('POST', '/api/jobs/:code/trigger', 'operator', 'triggering a job', (ctx) => trigger(ctx, DEFAULT_SCHEDULE_KEY)),
  route('POST', '/api/jobs/:code/schedules/:key/pause', 'operator', 'pausing a runtime schedule', (ctx) =>
    pauseOrResume(ctx, ctx.params.key as string, true),
  ),
  route('POST', '/api/jobs/:code/schedules/:key/resume', 'operator', 'resuming a runtime schedule', (ctx) =>
    pauseOrResume(ctx, ctx.params.key as string, false),
  ),
  route('POST', '/api/jobs/:code/schedules/:key/trigger', 'operator', 'triggering a runtime schedule', (ctx) =>
    trigger(ctx, ctx.params.key as string),
  ),
  route('POST', '/api/jobs/:code/schedules/:key/enable', 'admin', 'enabling a runtime schedule', (ctx) => setEnabled(ctx, true)),
  route('POST', '/api/jobs/:code/schedules/:key/disable', 'admin', 'disabling a runtime schedule', (ctx) => setEnabled(ctx, false)),
  route('POST', '/api/bulk', 'operator', 'pausing or resuming several', async (ctx) => {
    const action = ctx.body.action;
    if (action !== 'pause' && action !== 'resume')
      throw new DashboardHttpError(400, `action must be "pause" or "resume", got ${JSON.stringify(action ?? null)}`, 'action');
    const note = action === 'pause' ? (stringField(ctx.body, 'note', { max: 500 }) ?? null) : null;
    const targets = ctx.body.targets;
    if (!Array.isArray(targets) || targets.length === 0 || targets.length > 1000)
      throw new DashboardHttpError(400, 'targets must be a list of 1 … 1000 { code, key } items', 'targets');
    const refs = targets.map((t: unknown, i): ScheduleRef => {
      const item = t as Partial<ScheduleRef> | null;
      if (!item || typeof item.code !== 'string' || (item.key !== undefined && typeof item.key !== 'string'))
        throw new DashboardHttpError(400, `targets[${i}] must be { code, key? }`, 'targets');
      if (!ctx.registry.has(item.code)) throw new DashboardHttpError(404, `targets[${i}]: no job "${item.code}"`, 'targets');
      return { code: item.code, key: item.key ?? DEFAULT_SCHEDULE_KEY };
    });
    const runtime = refs.filter((r) => r.key !== DEFAULT_SCHEDULE_KEY);
    const found = runtime.length ? await ctx.store.getSchedules(runtime) : [];
    const exists = new Set(found.map((s) => `${s.code}\u0000${s.key}`));
    const missing = runtime.find((r) => !exists.has(`${r.code}\u0000${r.key}`));
    if (missing)
      throw new DashboardHttpError(
        404,
        `targets: job "${missing.code}" has no runtime schedule "${missing.key}"; nothing was changed`,
        'targets',
      );
    const before = new Map((await ctx.store.getStates(refs)).map((s) => [`${s.code}\u0000${s.key}`, s]));
    const now = ctx.clock.now();
    const states = [];
    for (const r of refs) {
      const state = await ctx.store.setPaused(r, action === 'pause', { now, ...(action === 'pause' ? { note } : {}) });
      await ctx.audit(
        ctx.auth as Authenticated,
        `${r.key === DEFAULT_SCHEDULE_KEY ? 'job' : 'schedule'}.${action}`,
        r,
        pauseView(before.get(`${r.code}\u0000${r.key}`)),
        pauseView(state),
      );
      states.push({ code: r.code, key: r.key, ...stateView(state) });
    }
    ok(ctx, { states });
  }),
  route('GET', '/api/audit', 'viewer', 'reading the audit log', async (ctx) => {
    ok(ctx, await ctx.access.listAudit({ limit: limitParam(ctx.query, 50, 500), cursor: ctx.query.get('cursor') }));
  }),
  route('GET', '/api/tokens', 'admin', 'listing tokens', async (ctx) => {
    ok(ctx, { tokens: await ctx.access.listTokens() });
  }),
  route('POST', '/api/tokens', 'admin', 'creating a token', async (ctx) => {
    const name = stringField(ctx.body, 'name', { required: true, max: 100 }) as string;
    if (name.trim() === '') throw new DashboardHttpError(400, 'name must not be empty', 'name');
    const role = ctx.body.role;
    if (!isRole(role))
      throw new DashboardHttpError(400, `role must be viewer, operator or admin, got ${JSON.stringify(role ?? null)}`, 'role');
    const expiresIn = stringField(ctx.body, 'expiresIn', { max: 20 });
    const now = ctx.clock.now();
    let expiresAt: Date | null = null;
    if (expiresIn !== undefined && expiresIn !== '') {
      try {
        expiresAt = new Date(now.getTime() + parseDuration(expiresIn, 'expiresIn', InvalidArgumentError));
      } catch (error) {
        throw new DashboardHttpError(400, (error as Error).message, 'expiresIn');
      }
    }
    const created = await ctx.access.createToken({ name, role, expiresAt, now });
    await ctx.audit(ctx.auth as Authenticated, 'token.create', { token: created.token.id }, null, created.token);
    ok(ctx, created, 201);
  }),
  route('DELETE', '/api/tokens/:id', 'admin', 'revoking a token', async (ctx) => {
    const before = await ctx.access.getToken(ctx.params.id as string);
    if (!before) throw new DashboardHttpError(404, `no token with id "${ctx.params.id}"`);
    await ctx.access.revokeToken(before.id);
    await ctx.audit(ctx.auth as Authenticated, 'token.revoke', { token: before.id }, before, null);
    ok(ctx, { revoked: true });
  }),
  route('GET', '/api/events', 'viewer', 'watching live runs', async (ctx) => {
    ctx.live.attach(ctx.res);
  }),
];
