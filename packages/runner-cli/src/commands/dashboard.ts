import { dirname } from 'node:path';
import { parseDuration, InvalidArgumentError } from '@tickwork/core';
import { CliUsageError } from '../errors.js';
import { importFromProject } from '../project-import.js';
import type { Session } from '../session.js';

/** The part of `@tickwork/dashboard` the CLI uses. */
interface DashboardModule {
  createStoreAccess(store: unknown): AccessStoreLike;
  createDashboard(options: { store: unknown; jobs: unknown; timezone?: string; basePath?: string }): unknown;
  startDashboardServer(dashboard: unknown, options: { port: number; host?: string }): Promise<{ url: string; close(): Promise<void> }>;
}

interface AccessStoreLike {
  createToken(input: {
    name: string;
    role: string;
    expiresAt: Date | null;
    now: Date;
  }): Promise<{ secret: string; token: { id: string; name: string; role: string; expiresAt: Date | null } }>;
  listTokens(): Promise<Array<{ id: string; name: string; role: string; createdAt: Date; expiresAt: Date | null }>>;
  getToken(id: string): Promise<{ id: string; name: string; role: string; createdAt: Date; expiresAt: Date | null } | null>;
  revokeToken(id: string): Promise<boolean>;
  appendAudit(entry: {
    at: Date;
    actor: { id: string; name: string; role: string; via: string };
    action: string;
    target: { token?: string };
    before: unknown;
    after: unknown;
  }): Promise<unknown>;
}

/** A dashboard served by the CLI. */
export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

const PACKAGE = '@tickwork/dashboard';
const ROLES = ['viewer', 'operator', 'admin'];

async function load(session: Session): Promise<DashboardModule> {
  const path = session.configPath();
  const module = await importFromProject<DashboardModule>(path ? dirname(path) : session.io.cwd, PACKAGE);
  if (!module || typeof module.createDashboard !== 'function') {
    throw new CliUsageError(`${PACKAGE} is not installed in this project: install it (pnpm add ${PACKAGE} / npm install ${PACKAGE})`);
  }
  return module;
}

/** Starts the dashboard over the session's config and store (for `tickwork dashboard` and `daemon --dashboard`). */
export async function startDashboardBeside(session: Session, options: { port: number; host?: string }): Promise<RunningDashboard> {
  const module = await load(session);
  const config = await session.config();
  const store = await session.store();
  const access = module.createStoreAccess(store);
  const dashboard = module.createDashboard({ store, jobs: config.jobs, timezone: await session.timezone() });
  const server = await module.startDashboardServer(dashboard, {
    port: options.port,
    ...(options.host !== undefined ? { host: options.host } : {}),
  });
  const tokens = await access.listTokens();
  session.err(
    `[tickwork] dashboard at ${server.url}${tokens.length === 0 ? ' — no tokens yet: tickwork dashboard token create --role admin' : ''}\n`,
  );
  return server;
}

/** `tickwork dashboard`: serves the dashboard until SIGINT/SIGTERM. */
export async function dashboardCommand(session: Session, flags: { port: number; host?: string }): Promise<number> {
  const server = await startDashboardBeside(session, flags);
  session.out(`${server.url}\n`);
  await new Promise<void>((resolveStop) => {
    const unsubscribe = session.io.onSignal?.(() => {
      unsubscribe?.();
      resolveStop();
    });
  });
  await server.close();
  return 0;
}

/** `tickwork dashboard token create|list|revoke`. */
export async function tokenCommand(
  session: Session,
  action: 'create' | 'list' | 'revoke',
  flags: { role?: string; name?: string; expiresIn?: string; json?: boolean; id?: string },
): Promise<number> {
  const module = await load(session);
  // Tokens and the audit log live in the configured store, which every dashboard on it reads.
  const access = module.createStoreAccess(await session.store());
  const actor = { id: 'cli', name: `cli:${session.io.env.USER ?? 'unknown'}`, role: 'admin', via: 'cli' };
  const now = session.localClock.now();
  if (action === 'list') {
    const tokens = await access.listTokens();
    if (flags.json) session.out(`${JSON.stringify({ tokens })}\n`);
    else if (tokens.length === 0) session.out('no tokens (tickwork dashboard token create --role admin)\n');
    else
      for (const t of tokens)
        session.out(`${t.id}  ${t.role.padEnd(8)} ${t.name}  ${t.expiresAt ? `expires ${t.expiresAt.toISOString()}` : 'never expires'}\n`);
    return 0;
  }
  if (action === 'revoke') {
    const id = flags.id as string;
    const before = await access.getToken(id);
    if (!before || !(await access.revokeToken(id)))
      throw new CliUsageError(`no dashboard token with id "${id}" (tickwork dashboard token list)`);
    await access.appendAudit({ at: now, actor, action: 'token.revoke', target: { token: id }, before, after: null });
    session.out(`revoked token ${id}\n`);
    return 0;
  }
  if (flags.role === undefined || !ROLES.includes(flags.role))
    throw new CliUsageError(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(flags.role ?? null)}`);
  const expiresAt =
    flags.expiresIn === undefined ? null : new Date(now.getTime() + parseDuration(flags.expiresIn, '--expires-in', InvalidArgumentError));
  const name = flags.name ?? `${flags.role} (${actor.name})`;
  const created = await access.createToken({ name, role: flags.role, expiresAt, now });
  await access.appendAudit({
    at: now,
    actor,
    action: 'token.create',
    target: { token: created.token.id },
    before: null,
    after: created.token,
  });
  if (flags.json) session.out(`${JSON.stringify(created)}\n`);
  else {
    session.out(`${created.secret}\n`);
    session.err(
      `[tickwork] created ${flags.role} token ${created.token.id} ("${name}"${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}); it is shown only now. Sign in to the dashboard with it.\n`,
    );
  }
  return 0;
}
