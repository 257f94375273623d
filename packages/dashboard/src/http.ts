import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardHttpError } from './errors.js';

/**
 * Headers on every answer: a CSP with no inline script or style and no framing, no MIME
 * sniffing, no referrer (URLs carry job codes and keys), and no caching of API answers.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** Sends a JSON answer with the security headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Sends an error as `{ error, message, field }`. */
export function sendError(res: ServerResponse, error: DashboardHttpError, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, { error: STATUS_TEXT[error.status] ?? 'Error', message: error.message, field: error.field }, headers);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Reads a JSON object body of at most `limit` bytes. 413 past the limit (from Content-Length
 * before reading, or while reading), 415 for another content type, 400 for malformed JSON.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new DashboardHttpError(413, `request body is ${declared} bytes; the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new DashboardHttpError(413, `request body is over the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (type !== 'application/json')
    throw new DashboardHttpError(415, `send the body as application/json (got ${type || 'no content type'})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new DashboardHttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new DashboardHttpError(400, 'request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Parses a `Cookie` header. */
export function cookiesOf(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    try {
      out.set(name, decodeURIComponent(part.slice(at + 1).trim()));
    } catch {
      // A cookie someone else set with bad escapes is not ours: ignore it.
    }
  }
  return out;
}

/** A request's own origin (`http://host:port`), trusting `x-forwarded-proto` only when told to. */
export function originOf(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy
    ? String(req.headers['x-forwarded-proto'] ?? '')
        .split(',')[0]
        ?.trim()
    : '';
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const proto = forwarded || (encrypted ? 'https' : 'http');
  return `${proto}://${String(req.headers.host ?? '')}`;
}

/** A string field of a JSON body (or undefined); 400 naming it when of another type. */
export function stringField(
  body: Record<string, unknown>,
  field: string,
  options: { max?: number; required?: boolean } = {},
): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    if (options.required) throw new DashboardHttpError(400, `${field} is required`, field);
    return undefined;
  }
  if (typeof value !== 'string') throw new DashboardHttpError(400, `${field} must be a string, got ${typeof value}`, field);
  if (options.max !== undefined && value.length > options.max)
    throw new DashboardHttpError(400, `${field} is ${value.length} characters; at most ${options.max}`, field);
  return value;
}
