import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** The `set-cookie` value of a session (a browser-session cookie: its expiry is inside the signed value). */
export function sessionCookie(value: string, basePath: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=${basePath || '/'}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The request header that carries the CSRF token on every mutation. */
export const CSRF_HEADER = 'x-csrf-token';

/** Who a request is, and whether it came with a browser session (then mutations need CSRF). */
export interface Authenticated {
  principal: Principal;
  /** 'session' and 'host' ride on cookies the browser sends by itself, so mutations need the CSRF token; 'bearer' does not. */
  via: 'session' | 'bearer' | 'host';
  /** The CSRF token bound to this session / principal. */
  csrf: string;
  /** A renewed session cookie value (sliding expiry) to send back, when it is due. */
  renewed?: string;
}

/** A sign-in, as the cookie carries it: `v1.<token id>.<issued ms>.<expires ms>.<signature>`. */
interface Session {
  tokenId: string;
  issuedAt: number;
  expiresAt: number;
  signature: string;
}

const SESSION_PATTERN = /^v1\.([A-Za-z0-9_-]{1,64})\.(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/;
/** A session's expiry is pushed forward (a new cookie) at most this often. */
const RENEW_AFTER_MS = 60_000;

/**
 * Sign-in sessions over an {@link AccessStore}'s tokens, plus CSRF and Origin checks. A session
 * is a stateless cookie signed (HMAC-SHA256) with the hash of its token's secret, which lives in
 * the store: every dashboard instance on that store accepts it, and revoking the token ends it.
 */
export class Gate {
  /** Keys the CSRF tokens of host-hook users (no token hash to sign with). */
  private readonly hostSecret: Buffer;

  constructor(
    private readonly access: AccessStore,
    private readonly clock: Clock,
    private readonly options: {
      sessionTtlMs: number;
      authenticate: AuthenticateHook | null;
      allowedOrigins: readonly string[];
      trustProxy: boolean;
      secret: string | null;
    },
  ) {
    this.hostSecret =
      options.secret === null ? randomBytes(32) : createHash('sha256').update(`tickwork-dashboard:${options.secret}`).digest();
  }

  /** Exchanges a token for a session (the cookie's value); 401 for an unknown or expired token. */
  async signIn(secret: unknown): Promise<{ sessionId: string; principal: Principal; csrf: string }> {
    if (typeof secret !== 'string' || secret.trim() === '') throw new DashboardHttpError(401, 'token is required', 'token');
    const token = await this.tokenPrincipal(secret);
    const key = await this.access.tokenKey(token.id);
    if (!key) throw new DashboardHttpError(401, 'unknown token');
    const now = this.clock.now().getTime();
    const sessionId = this.sign(key.hash, token.id, now, now + this.options.sessionTtlMs);
    return { sessionId, principal: token, csrf: this.sessionCsrf(key.hash, token.id, now) };
  }

  /** Ends a session in this browser (the cookie is cleared); revoke the token to end every session of it. */
  signOut(_req: IncomingMessage): void {}

  /**
   * Who is asking: the host hook's user, a bearer token, or a session cookie, in that order.
   * 401 when none is valid (anonymous requests never get data).
   */
  async authenticate(req: IncomingMessage): Promise<Authenticated> {
    if (this.options.authenticate) {
      const principal = await this.options.authenticate(req);
      if (principal)
        return { principal: { ...principal, via: 'host' }, via: 'host', csrf: this.hmac(this.hostSecret, `csrf:host:${principal.id}`) };
    }
    const header = String(req.headers.authorization ?? '');
    if (header !== '') {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new DashboardHttpError(401, 'Authorization must be "Bearer <token>"');
      const principal = await this.tokenPrincipal(match[1] as string);
      return { principal, via: 'bearer', csrf: '' };
    }
    const cookie = cookiesOf(req).get(SESSION_COOKIE);
    if (!cookie) throw new DashboardHttpError(401, 'sign in first: no session and no bearer token');
    const session = parseSession(cookie);
    const now = this.clock.now().getTime();
    if (!session || session.expiresAt <= now) throw new DashboardHttpError(401, 'your session has expired or ended: sign in again');
    const key = await this.access.tokenKey(session.tokenId);
    if (!key) throw new DashboardHttpError(401, 'the token of this session was revoked: sign in again');
    const expected = Buffer.from(this.sign(key.hash, session.tokenId, session.issuedAt, session.expiresAt));
    const presented = Buffer.from(cookie);
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented))
      throw new DashboardHttpError(401, 'your session has expired or ended: sign in again');
    const { token } = key;
    if (token.expiresAt && token.expiresAt.getTime() <= now)
      throw new DashboardHttpError(401, `token "${token.name}" expired at ${token.expiresAt.toISOString()}`);
    const renewed =
      session.expiresAt - now < this.options.sessionTtlMs - RENEW_AFTER_MS
        ? this.sign(key.hash, token.id, session.issuedAt, now + this.options.sessionTtlMs)
        : undefined;
    return {
      principal: { id: token.id, name: token.name, role: token.role, via: 'token' },
      via: 'session',
      csrf: this.sessionCsrf(key.hash, token.id, session.issuedAt),
      ...(renewed ? { renewed } : {}),
    };
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
    if (check.status === 'expired')
      throw new DashboardHttpError(401, `token "${check.token.name}" expired at ${check.token.expiresAt?.toISOString()}`);
    return { id: check.token.id, name: check.token.name, role: check.token.role, via: 'token' };
  }

  private sign(hash: string, tokenId: string, issuedAt: number, expiresAt: number): string {
    const body = `v1.${tokenId}.${issuedAt}.${expiresAt}`;
    return `${body}.${this.hmac(Buffer.from(hash, 'utf8'), `session:${body}`)}`;
  }

  /** Bound to the sign-in (token and issue time), so it survives the cookie's renewals. */
  private sessionCsrf(hash: string, tokenId: string, issuedAt: number): string {
    return this.hmac(Buffer.from(hash, 'utf8'), `csrf:session:${tokenId}.${issuedAt}`);
  }

  private hmac(key: Buffer, text: string): string {
    return createHmac('sha256', key).update(text).digest('base64url');
  }
}

function parseSession(cookie: string): Session | null {
  const match = SESSION_PATTERN.exec(cookie);
  if (!match) return null;
  return { tokenId: match[1] as string, issuedAt: Number(match[2]), expiresAt: Number(match[3]), signature: match[4] as string };
}
