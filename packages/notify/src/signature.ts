import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How far a signature's timestamp may be from the receiver's clock before it is refused as a replay. Five
 * minutes, as Stripe and Standard Webhooks advise.
 */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 300_000;

/**
 * The headers of a signed delivery, after the Standard Webhooks scheme (Svix's): `webhook-id`
 * (the same on every retry), `webhook-timestamp` (Unix seconds, fresh on every attempt) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
 */
export function signatureHeaders(input: { id: string; body: string; secret: string; now: Date }): Record<string, string> {
  const timestamp = String(Math.floor(input.now.getTime() / 1000));
  return {
    'webhook-id': input.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${sign(input.secret, `${input.id}.${timestamp}.${input.body}`)}`,
  };
}

/** Why {@link verifyWebhookSignature} refused a delivery, or `ok`. */
export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing-header' | 'stale-timestamp' | 'bad-signature' };

/**
 * Checks a delivery on the receiving side: the raw body exactly as received, its headers
 * (lower-case names), the shared secret and the receiver's clock. Refuses a timestamp further
 * than `toleranceMs` from `now` (replays) and compares in constant time; any `v1,` entry of a
 * space-separated list may match (secret rotation).
 */
export function verifyWebhookSignature(input: {
  body: string;
  headers: Record<string, string | string[] | undefined>;
  secret: string;
  now?: Date;
  toleranceMs?: number;
}): SignatureCheck {
  const header = (name: string) => {
    const value = input.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing-header' };
  const seconds = Number(timestamp);
  const now = (input.now ?? new Date()).getTime();
  if (!/^\d+$/.test(timestamp) || Math.abs(now - seconds * 1000) > (input.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS)) {
    return { ok: false, reason: 'stale-timestamp' };
  }
  const expected = Buffer.from(sign(input.secret, `${id}.${timestamp}.${input.body}`), 'base64');
  for (const entry of signatures.split(' ')) {
    if (!entry.startsWith('v1,')) continue;
    const given = Buffer.from(entry.slice(3), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'bad-signature' };
}

// Standard Webhooks secrets read `whsec_<base64 key>`; any other string is the key's UTF-8 bytes.
function sign(secret: string, content: string): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  return createHmac('sha256', key).update(content, 'utf8').digest('base64');
}
