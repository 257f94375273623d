/** Test fixtures: a dashboard on a real HTTP port over a real store, and a client that keeps its cookie and CSRF token. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock, createMemoryStore, defineJob, every, type Clock, type Job, type Store } from '@tickwork/core';
import {
  createDashboard,
  createStoreAccess,
  startDashboardServer,
  type AccessStore,
  type Dashboard,
  type DashboardOptions,
  type Role,
} from '../src/index.js';

/** The jobs every test dashboard shows. */
export function testJobs(): Job[] {
  return [
    defineJob({ code: 'reports.daily', schedule: every('1h'), description: 'tenant reports', timeout: '5m', run: async () => undefined }),
    defineJob({ code: 'reminders.send', schedule: null, timezone: 'Europe/Paris', run: async () => undefined }),
    defineJob({ code: 'cleanup', schedule: '0 3 * * *', run: async () => undefined }),
  ];
}

/** A started dashboard (its tokens and audit log in its store) and a scratch directory. */
export interface Harness {
  url: string;
  origin: string;
  store: Store;
  access: AccessStore;
  dashboard: Dashboard;
  clock: Clock;
  dir: string;
  /** A token of that role. */
  token(role: Role, options?: { expiresIn?: number }): Promise<string>;
  /** A signed-in client of that role. */
  client(role: Role): Promise<Client>;
  close(): Promise<void>;
}

/** Starts a dashboard over `store` (default: a fresh memory store) on a free port. */
export async function startHarness(
  options: { store?: Store; clock?: Clock; jobs?: Job[]; extra?: Partial<DashboardOptions>; keepStore?: boolean } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-dashboard-'));
  const store = options.store ?? createMemoryStore();
  const clock = options.clock ?? createFakeClock('2026-06-01T10:00:00Z');
  const access = createStoreAccess(store);
  const dashboard = createDashboard({ store, jobs: options.jobs ?? testJobs(), clock, livePollMs: 100, ...options.extra });
  const server = await startDashboardServer(dashboard, { port: 0 });
  const origin = new URL(server.url).origin;
  const harness: Harness = {
    url: server.url,
    origin,
    store,
    access,
    dashboard,
    clock,
    dir,
    async token(role, tokenOptions = {}) {
      const now = clock.now();
      const expiresAt = tokenOptions.expiresIn !== undefined ? new Date(now.getTime() + tokenOptions.expiresIn) : null;
      return (await access.createToken({ name: `${role}-user`, role, expiresAt, now })).secret;
    },
    async client(role) {
      const client = new Client(server.url, origin);
      await client.signIn(await harness.token(role));
      return client;
    },
    async close() {
      await server.close();
      if (!options.keepStore) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** A fetch client with the session cookie and CSRF header a browser page would send. */
export class Client {
  cookie = '';
  csrf = '';

  constructor(
    readonly base: string,
    readonly origin: string,
  ) {}

  async signIn(token: string): Promise<Response> {
    const res = await this.send('POST', 'api/session', { token });
    if (res.ok) {
      this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
      this.csrf = ((await res.clone().json()) as { csrf: string }).csrf;
    }
    return res;
  }

  /** A request; `csrf: false` leaves the CSRF header off, `origin` overrides the Origin header. */
  async send(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean; origin?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET' && options.csrf !== false && this.csrf) headers['x-csrf-token'] = this.csrf;
    if (method !== 'GET' && options.origin !== null) headers.origin = options.origin ?? this.origin;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(new URL(path, this.base), {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  }

  async json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.send(method, path, body);
    return { status: res.status, body: (await res.json()) as T };
  }
}
