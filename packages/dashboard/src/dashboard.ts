import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  InvalidArgumentError,
  UnknownJobError,
  systemClock,
  type Clock,
  type JobInput,
  type JobRegistry,
  type Store,
  createScheduler,
} from '@tickwork/core';
import { toRegistry } from '@tickwork/core/runner';
import { createStoreAccess, type AuditEntry } from './access-store.js';
import { Assets } from './assets.js';
import { Gate, SESSION_COOKIE, sessionCookie, type Authenticated, type AuthenticateHook } from './auth.js';
import { DashboardHttpError, isBadInput, isStoreDown, PREFIX } from './errors.js';
import { readJsonBody, sendError, sendJson, SECURITY_HEADERS } from './http.js';
import { DEFAULT_LIVE_POLL_MS, LiveFeed } from './live.js';
import type { Principal, Role } from './roles.js';
import { fieldOfCoreMessage } from './schedule-form.js';
import { routes, type Route, type RouteContext } from './routes.js';

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** Any store implementing core's contract. */
  store: Store;
  /** The jobs defined in code (the same list the runners get). */
  jobs: JobRegistry | readonly JobInput[];
  /** Where it is mounted, e.g. '/dashboard' (default); '' for the root of its own server. */
  basePath?: string;
  /** The host's own authentication (its session); tried before tokens. */
  authenticate?: AuthenticateHook;
  /** Default zone of schedules that name none, as configured for the runners. Default 'UTC'. */
  timezone?: string;
  clock?: Clock;
  /** Largest request body in bytes (default 256 KiB; a schedule payload may be 64 KiB of JSON). */
  bodyLimitBytes?: number;
  /** How long a sign-in lasts without use (default 12 h). */
  sessionTtlMs?: number;
  /** Origins other than the dashboard's own allowed to send mutations (e.g. behind a proxy that rewrites Host). */
  allowedOrigins?: readonly string[];
  /** Trust `x-forwarded-proto` (behind a TLS-terminating proxy): Secure cookies and origin checks use it. Default false. */
  trustProxy?: boolean;
  /** Live feed poll interval in ms (default 500). */
  livePollMs?: number;
  /** How long audit rows are kept, in ms (default 400 days); older ones are pruned at most hourly, after an append. */
  auditRetentionMs?: number;
  /**
   * Keys the CSRF tokens of host-hook users; give every instance behind one load balancer the
   * same one. Default: random per process (token sessions need none: they are signed with their token's hash).
   */
  secret?: string;
}

/** A mounted dashboard: a plain Node `(req, res, next?)` handler plus the guard for a host's own management routes. */
export interface Dashboard {
  /** Where it is mounted ('/dashboard' by default). */
  readonly basePath: string;
  /** Serves a request under `basePath`; other paths go to `next` (Express/Connect) or get a 404. */
  handle(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void>;
  /**
   * The dashboard's rules for a host's own route: authenticated (401), `role` at least (403) and,
   * for a mutation, Origin and CSRF checks (403). Returns who it is; throws {@link DashboardHttpError}.
   */
  guard(req: IncomingMessage, options: { role: Role; mutation: boolean; what: string }): Promise<Principal>;
  /** Writes one audit row (for a host route's mutation, after {@link Dashboard.guard}). */
  audit(principal: Principal, action: string, target: AuditEntry['target'], before: unknown, after: unknown): Promise<AuditEntry>;
  /** Ends live streams. The store is the host's to close. */
  close(): Promise<void>;
}

/** How long audit rows are kept by default: 400 days (a year and a month). */
export const DEFAULT_AUDIT_RETENTION_MS = 400 * 24 * 3_600_000;
const AUDIT_PRUNE_EVERY_MS = 3_600_000;

/** Creates the dashboard over a store and the jobs defined in code. Auth is always on. */
export function createDashboard(options: DashboardOptions): Dashboard {
  const basePath = normaliseBase(options.basePath ?? '/dashboard');
  const clock = options.clock ?? systemClock;
  const timezone = options.timezone ?? 'UTC';
  const registry = toRegistry(options.jobs);
  const limit = options.bodyLimitBytes ?? 256 * 1024;
  const access = createStoreAccess(options.store);
  const gate = new Gate(access, clock, {
    sessionTtlMs: options.sessionTtlMs ?? 12 * 3_600_000,
    authenticate: options.authenticate ?? null,
    allowedOrigins: options.allowedOrigins ?? [],
    trustProxy: options.trustProxy ?? false,
    secret: options.secret ?? null,
  });
  const live = new LiveFeed(options.store, options.livePollMs ?? DEFAULT_LIVE_POLL_MS);
  const assets = new Assets();
  const scheduler = createScheduler({ jobs: registry, store: options.store, clock, timezone });
  const retentionMs = options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS;
  if (!Number.isFinite(retentionMs) || retentionMs <= 0)
    throw new InvalidArgumentError(`${PREFIX} auditRetentionMs must be a positive number of milliseconds, got ${String(retentionMs)}`);
  let prunedAt = Number.NEGATIVE_INFINITY;
  const audit: Dashboard['audit'] = async (principal, action, target, before, after) => {
    const now = clock.now();
    const row = await access.appendAudit({
      at: now,
      actor: { id: principal.id, name: principal.name, role: principal.role, via: principal.via },
      action,
      target,
      before,
      after,
    });
    if (now.getTime() - prunedAt >= AUDIT_PRUNE_EVERY_MS) {
      prunedAt = now.getTime();
      // Retention is housekeeping: a failed prune never fails the change it follows; the next append after an hour tries again.
      void options.store.pruneAudit({ olderThan: new Date(now.getTime() - retentionMs) }).catch(() => undefined);
    }
    return row;
  };

  const context: Omit<RouteContext, 'req' | 'res' | 'params' | 'query' | 'auth' | 'body'> = {
    store: options.store,
    registry,
    scheduler,
    access,
    clock,
    timezone,
    live,
    gate,
    basePath,
    secureCookie: (req) =>
      (options.trustProxy && String(req.headers['x-forwarded-proto'] ?? '').startsWith('https')) ||
      (req.socket as { encrypted?: boolean }).encrypted === true,
    audit: async (auth, action, target, before, after) => {
      await audit(auth.principal, action, target, before, after);
      if (target.code !== undefined) live.changed({ type: 'state', code: target.code, key: target.key ?? '' });
    },
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> => {
    const method = req.method ?? 'GET';
    if (path === '' || path === '/') {
      if (method !== 'GET' && method !== 'HEAD') throw new DashboardHttpError(405, `${method} / is not allowed`);
      assets.send(req, res, 'index.html');
      return;
    }
    if (path.startsWith('/assets/')) {
      const name = path.slice('/assets/'.length);
      if ((method === 'GET' || method === 'HEAD') && /^[a-z0-9-]+\.(js|css|svg)$/.test(name) && assets.has(name)) {
        assets.send(req, res, name);
        return;
      }
      throw new DashboardHttpError(404, `no asset ${path}`);
    }
    const segments = path.split('/').slice(1);
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      throw new DashboardHttpError(400, `path ${path} has a malformed escape`);
    }
    const match = matchRoute(routes, method, decoded);
    if (!match) {
      const other = routes.some((r) => matchRoute([r], r.method, decoded));
      throw new DashboardHttpError(other ? 405 : 404, other ? `${method} is not allowed on ${path}` : `no API route ${method} ${path}`);
    }
    const { route, params } = match;
    let auth: Authenticated | null = null;
    if (route.role !== null) {
      auth = await gate.authenticate(req);
      if (auth.renewed) res.setHeader('set-cookie', sessionCookie(auth.renewed, basePath, context.secureCookie(req)));
      if (route.mutation) gate.checkMutation(req, auth);
      gate.require(auth, route.role, route.what);
    } else if (route.mutation) {
      gate.checkOrigin(req);
    }
    if (route.code && !registry.has(params.code as string)) {
      throw new DashboardHttpError(404, `no job "${params.code}" (known: ${registry.codes().join(', ') || 'none'})`);
    }
    const body = method === 'GET' || method === 'HEAD' ? {} : await readJsonBody(req, limit);
    await route.run({ ...context, req, res, params, query, auth, body });
  };

  return {
    basePath,
    async handle(req, res, next) {
      const raw = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
      const url = new URL(raw, 'http://localhost');
      const pathname = url.pathname;
      if (basePath !== '' && pathname !== basePath && !pathname.startsWith(`${basePath}/`)) {
        if (next) return next();
        return sendError(res, new DashboardHttpError(404, `not found: the dashboard is at ${basePath}/`));
      }
      if (basePath !== '' && pathname === basePath) {
        res.writeHead(308, { ...SECURITY_HEADERS, location: `${basePath}/` }).end();
        return;
      }
      try {
        await serve(req, res, pathname.slice(basePath.length), url.searchParams);
      } catch (error) {
        if (res.headersSent) {
          res.end();
          return;
        }
        const http = toHttpError(error);
        sendError(
          res,
          http,
          http.status === 401 ? { 'set-cookie': `${SESSION_COOKIE}=; Path=${basePath || '/'}; Max-Age=0; HttpOnly; SameSite=Strict` } : {},
        );
      }
    },
    async guard(req, { role, mutation, what }) {
      const auth = await gate.authenticate(req);
      if (mutation) gate.checkMutation(req, auth);
      gate.require(auth, role, what);
      return auth.principal;
    },
    audit,
    async close() {
      live.close();
    },
  };
}

/**
 * Any error as an HTTP answer: our own as they are, unknown jobs 404, bad input 400 (naming the
 * field), a store that cannot serve 503 — the last two by the exit code the error carries.
 */
export function toHttpError(error: unknown): DashboardHttpError {
  if (error instanceof DashboardHttpError) return error;
  if (error instanceof UnknownJobError) return new DashboardHttpError(404, error.message);
  if (isBadInput(error)) return new DashboardHttpError(400, error.message, fieldOfCoreMessage(error.message));
  if (isStoreDown(error)) return new DashboardHttpError(503, `the store is unavailable: ${error.message}`);
  return new DashboardHttpError(500, `${PREFIX} internal error: ${error instanceof Error ? error.message : String(error)}`);
}

function matchRoute(
  list: readonly Route[],
  method: string,
  segments: readonly string[],
): { route: Route; params: Record<string, string> } | null {
  for (const route of list) {
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
    if (route.path.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    route.path.forEach((part, i) => {
      const segment = segments[i] as string;
      if (part.startsWith(':')) {
        if (segment === '') ok = false;
        params[part.slice(1)] = segment;
      } else if (part !== segment) ok = false;
    });
    if (ok) return { route, params };
  }
  return null;
}

function normaliseBase(base: string): string {
  if (base === '' || base === '/') return '';
  if (!/^\/[A-Za-z0-9._~/-]*[^/]$/.test(base))
    throw new InvalidArgumentError(`${PREFIX} basePath must look like /dashboard (no trailing slash), got ${JSON.stringify(base)}`);
  return base;
}
