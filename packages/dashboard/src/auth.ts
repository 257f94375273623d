import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '@tickwork/core';
import type { AccessStore } from './access-store.js';
import { DashboardHttpError } from './errors.js';
import { cookiesOf, originOf } from './http.js';
import { roleAllows, type Principal, type Role } from './roles.js';

/** The host's own authentication: the signed-in user with a role, or null for nobody. */
export type AuthenticateHook = (req: IncomingMessage) => Principal | null | Promise<Principal | null>;

/** The name of the session cookie. */
export const SESSION_COOKIE = 'tickwork_dashboard';

/** The request header that carries the CSRF token on every mutation. */
export const CSRF_HEADER = 'x-csrf-token';

interface Session {
  tokenId: string;
  expiresAt: number;
}

/** Who a request is, and whether it came with a browser session (then mutations need CSRF). */
export interface Authenticated {
  principal: Principal;
  /** 'session' and 'host' ride on cookies the browser sends by itself, so mutations need the CSRF token; 'bearer' does not. */
  via: 'session' | 'bearer' | 'host';
  /** The CSRF token bound to this session / principal. */
  csrf: string;
}

/** Sign-in sessions (in memory, by random id) over an {@link AccessStore}'s tokens, plus CSRF and Origin checks. */
export class Gate {
  private readonly sessions = new Map<string, Session>();
  private readonly secret = randomBytes(32);

  constructor(
    private readonly access: AccessStore,
    private readonly clock: Clock,
    private readonly options: { sessionTtlMs: number; authenticate: AuthenticateHook | null; allowedOrigins: readonly string[]; trustProxy: boolean },
  ) {}

  /** Exchanges a token for a session id (the cookie's value); 401 for an unknown or expired token. */
  async signIn(secret: unknown): Promise<{ sessionId: string; principal: Principal; csrf: string }> {
    if (typeof secret !== 'string' || secret.trim() === '') throw new DashboardHttpError(401, 'token is required', 'token');
    const token = await this.tokenPrincipal(secret);
    const sessionId = randomBytes(32).toString('base64url');
    this.sessions.set(sessionId, { tokenId: token.id, expiresAt: this.clock.now().getTime() + this.options.sessionTtlMs });
    this.sweep();
    return { sessionId, principal: token, csrf: this.csrfFor(`session:${sessionId}`) };
  }

  /** Ends a session. */
  signOut(req: IncomingMessage): void {
    const id = cookiesOf(req).get(SESSION_COOKIE);
    if (id) this.sessions.delete(id);
  }

  /**
   * Who is asking: the host hook's user, a bearer token, or a session cookie, in that order.
   * 401 when none is valid (anonymous requests never get data).
   */
  async authenticate(req: IncomingMessage): Promise<Authenticated> {
    if (this.options.authenticate) {
      const principal = await this.options.authenticate(req);
      if (principal) return { principal: { ...principal, via: 'host' }, via: 'host', csrf: this.csrfFor(`host:${principal.id}`) };
    }
    const header = String(req.headers.authorization ?? '');
    if (header !== '') {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new DashboardHttpError(401, 'Authorization must be "Bearer <token>"');
      const principal = await this.tokenPrincipal(match[1] as string);
      return { principal, via: 'bearer', csrf: '' };
    }
    const sessionId = cookiesOf(req).get(SESSION_COOKIE);
    if (!sessionId) throw new DashboardHttpError(401, 'sign in first: no session and no bearer token');
    const session = this.sessions.get(sessionId);
    const now = this.clock.now().getTime();
    if (!session || session.expiresAt <= now) {
      this.sessions.delete(sessionId);
      throw new DashboardHttpError(401, 'your session has expired or ended: sign in again');
    }
    const token = await this.access.getToken(session.tokenId);
    if (!token) {
      this.sessions.delete(sessionId);
      throw new DashboardHttpError(401, 'the token of this session was revoked: sign in again');
    }
    if (token.expiresAt && token.expiresAt.getTime() <= now) {
      this.sessions.delete(sessionId);
      throw new DashboardHttpError(401, `token "${token.name}" expired at ${token.expiresAt.toISOString()}`);
    }
    session.expiresAt = now + this.options.sessionTtlMs; // sliding expiry
    return { principal: { id: token.id, name: token.name, role: token.role, via: 'token' }, via: 'session', csrf: this.csrfFor(`session:${sessionId}`) };
  }

  /** 403 unless the principal's role allows `needed`. */
  require(auth: Authenticated, needed: Role, what: string): void {
    if (!roleAllows(auth.principal.role, needed)) {
      throw new DashboardHttpError(403, `${what} needs the ${needed} role; "${auth.principal.name}" is ${auth.principal.role}`);
    }
  }

  /**
   * For a state-changing request: the Origin (when sent) must be this server's own or an
   * allowed one, a cross-site fetch is refused, and a cookie-borne identity must present the
   * CSRF token bound to it in the `x-csrf-token` header. 403 otherwise.
   */
  checkMutation(req: IncomingMessage, auth: Authenticated | null): void {
    this.checkOrigin(req);
    if (auth === null || auth.via === 'bearer') return;
    const presented = String(req.headers[CSRF_HEADER] ?? '');
    if (presented === '') throw new DashboardHttpError(403, `CSRF token missing: send the ${CSRF_HEADER} header from /api/me`);
    const a = Buffer.from(presented);
    const b = Buffer.from(auth.csrf);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new DashboardHttpError(403, 'CSRF token does not match this session');
  }

  /** 403 for a request from another site. */
  checkOrigin(req: IncomingMessage): void {
    const site = String(req.headers['sec-fetch-site'] ?? '');
    if (site === 'cross-site') throw new DashboardHttpError(403, 'cross-site request refused');
    const origin = req.headers.origin;
    if (origin === undefined) return;
    const own = originOf(req, this.options.trustProxy);
    if (origin !== own && !this.options.allowedOrigins.includes(origin)) {
      throw new DashboardHttpError(403, `Origin ${origin} is not this dashboard's (${own}); add it to allowedOrigins if it should be`);
    }
  }

  private async tokenPrincipal(secret: string): Promise<Principal> {
    const check = await this.access.verifyToken(secret, this.clock.now());
    if (check.status === 'unknown') throw new DashboardHttpError(401, 'unknown token');
    if (check.status === 'expired') throw new DashboardHttpError(401, `token "${check.token.name}" expired at ${check.token.expiresAt?.toISOString()}`);
    return { id: check.token.id, name: check.token.name, role: check.token.role, via: 'token' };
  }

  private csrfFor(identity: string): string {
    return createHmac('sha256', this.secret).update(`csrf:${identity}`).digest('base64url');
  }

  private sweep(): void {
    const now = this.clock.now().getTime();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}
