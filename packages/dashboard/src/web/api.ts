/** Calls to the dashboard's JSON API, with the CSRF token on every mutation. */
export interface Me {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  via: string;
  csrf: string;
  timezone: string;
  store: string;
  /** Whether the store lists the runners sharing it (runner presence). */
  runners: boolean;
}

/** An API refusal: status, message and the field at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null,
  ) {
    super(message);
  }
}

const base = new URL('.', document.baseURI).pathname.replace(/\/$/, '');
let csrf = '';

/** Remembers the CSRF token of this session. */
export function setCsrf(token: string): void {
  csrf = token;
}

/** The dashboard's base path, as served. */
export const basePath = base;

/** One API call; throws {@link ApiError} for a non-2xx answer. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) throw new ApiError(res.status, data.message ?? `${res.status}`, data.field ?? null);
  return data as T;
}

/** Path segment escaping for codes and keys. */
export const seg = (value: string) => encodeURIComponent(value);

/** Query string of the non-empty values. */
export function qs(params: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : '';
}
