import { createHmac } from 'node:crypto';
import { createFakeClock } from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookNotifier, DeliveryError, verifyWebhookSignature } from '../src/index.js';
import { failureNotification } from './fixtures.js';
import { closedPort, recordingSleep, startHttpReceiver, type Answer } from './receivers.js';

const SECRET = 'whsec_' + Buffer.from('a test secret of thirty-two bytes').toString('base64');
const clock = createFakeClock('2026-03-02T06:00:03.000Z');
const receivers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(answers: Answer[]) {
  const r = await startHttpReceiver(answers);
  receivers.push(r);
  return r;
}

/** The Standard Webhooks check, done here with node:crypto alone so it cannot share a bug with the sender. */
function independentlyVerified(body: string, headers: Record<string, string | string[] | undefined>): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = String(headers['webhook-timestamp']);
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return String(headers['webhook-signature']) === `v1,${expected}`;
}

describe('webhook notifier', () => {
  it('POSTs the notification as JSON with a signature the receiver verifies', async () => {
    const hook = await receiver([{ status: 204 }]);
    const notification = failureNotification();
    const result = await createWebhookNotifier({ url: hook.url, secret: SECRET, clock }).send(notification);
    expect(result).toEqual({ attempts: 1, status: 204 });
    expect(hook.received).toHaveLength(1);
    const [request] = hook.received;
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['webhook-id']).toBe(notification.id);
    expect(request?.headers['webhook-timestamp']).toBe(String(Date.parse('2026-03-02T06:00:03Z') / 1000));
    expect(independentlyVerified(request?.body ?? '', request?.headers ?? {})).toBe(true);
    expect(JSON.parse(request?.body ?? '')).toMatchObject({
      kind: 'failure',
      code: 'reports.daily',
      key: '',
      run: {
        id: '42',
        slot: '2026-03-02T06:00:00.000Z',
        attempt: 1,
        status: 'failed',
        error: 'connection refused by the reporting database',
      },
      url: 'https://ops.example.com/tickwork/#/run/42',
    });
  });

  it('a tampered body, a wrong secret or a replayed timestamp fail verifyWebhookSignature', async () => {
    const hook = await receiver([{ status: 200 }]);
    await createWebhookNotifier({ url: hook.url, secret: SECRET, clock }).send(failureNotification());
    const { body, headers } = hook.received[0] ?? { body: '', headers: {} };
    const now = clock.now();
    expect(verifyWebhookSignature({ body, headers, secret: SECRET, now })).toEqual({ ok: true });
    expect(verifyWebhookSignature({ body: body.replace('failed', 'succeeded'), headers, secret: SECRET, now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyWebhookSignature({ body, headers, secret: 'whsec_' + Buffer.from('another key').toString('base64'), now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyWebhookSignature({ body, headers, secret: SECRET, now: new Date(now.getTime() + 301_000) })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(verifyWebhookSignature({ body, headers: { ...headers, 'webhook-signature': undefined }, secret: SECRET, now })).toEqual({
      ok: false,
      reason: 'missing-header',
    });
  });

  it('retries 500s with exponential backoff and jitter, re-signing each attempt under the same id', async () => {
    const hook = await receiver([{ status: 500 }, { status: 502 }, { status: 503 }, { status: 200 }]);
    const { waits, sleep } = recordingSleep();
    const result = await createWebhookNotifier({
      url: hook.url,
      secret: SECRET,
      clock,
      retries: 3,
      backoff: '1s',
      maxBackoff: '30s',
      sleep,
      random: () => 0.5,
    }).send(failureNotification());
    expect(result).toEqual({ attempts: 4, status: 200 });
    expect(hook.received).toHaveLength(4);
    // ceilings 1 s, 2 s, 4 s; "equal jitter" at random 0.5 waits 3/4 of each.
    expect(waits).toEqual([750, 1500, 3000]);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of hook.received) expect(independentlyVerified(r.body, r.headers)).toBe(true);
  });

  it('gives up after 1 + retries attempts and says how many it made', async () => {
    const hook = await receiver([{ status: 500, body: 'database down' }]);
    const { waits, sleep } = recordingSleep();
    const send = createWebhookNotifier({ url: hook.url, retries: 2, sleep, random: () => 1 }).send(failureNotification());
    const error = await send.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).attempts).toBe(3);
    expect((error as DeliveryError).message).toContain('answered 500: database down (gave up after 3 attempts)');
    expect(hook.received).toHaveLength(3);
    expect(waits).toEqual([1000, 2000]);
  });

  it('caps the backoff at maxBackoff', async () => {
    const hook = await receiver([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 200 }]);
    const { waits, sleep } = recordingSleep();
    await createWebhookNotifier({ url: hook.url, retries: 4, backoff: '1s', maxBackoff: '3s', sleep, random: () => 0 }).send(
      failureNotification(),
    );
    expect(waits).toEqual([500, 1000, 1500, 1500]);
  });

  it('does not retry a 4xx other than 408 and 429, nor follow a redirect', async () => {
    for (const status of [400, 401, 404, 410, 422, 302]) {
      const hook = await receiver([{ status, headers: status === 302 ? { location: 'http://127.0.0.1:1/elsewhere' } : {} }]);
      const { waits, sleep } = recordingSleep();
      const error = await createWebhookNotifier({ url: hook.url, sleep })
        .send(failureNotification())
        .catch((e: unknown) => e);
      expect((error as DeliveryError).attempts).toBe(1);
      expect((error as Error).message).toContain(`answered ${status}`);
      expect(hook.received).toHaveLength(1);
      expect(waits).toEqual([]);
    }
  });

  it('retries 429 and 408 after their Retry-After (seconds or an HTTP date)', async () => {
    const hook = await receiver([
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 408, headers: { 'retry-after': new Date(clock.now().getTime() + 12_000).toUTCString() } },
      { status: 429 },
      { status: 200 },
    ]);
    const { waits, sleep } = recordingSleep();
    const result = await createWebhookNotifier({ url: hook.url, clock, sleep, random: () => 0.5 }).send(failureNotification());
    expect(result.attempts).toBe(4);
    expect(waits).toEqual([7000, 12_000, 3000]);
  });

  it('stops when Retry-After asks for longer than maxBackoff, rather than send early', async () => {
    const hook = await receiver([{ status: 429, headers: { 'retry-after': '3600' } }]);
    const { waits, sleep } = recordingSleep();
    const error = await createWebhookNotifier({ url: hook.url, sleep })
      .send(failureNotification())
      .catch((e: unknown) => e);
    expect((error as DeliveryError).attempts).toBe(1);
    expect((error as Error).message).toContain('asked to retry after 1h');
    expect(waits).toEqual([]);
  });

  it('times out an attempt that gets no answer, and retries it', async () => {
    const hook = await receiver(['hang', 'hang', { status: 200 }]);
    const { sleep } = recordingSleep();
    const result = await createWebhookNotifier({ url: hook.url, timeout: '2s', retries: 2, sleep }).send(failureNotification());
    expect(result).toEqual({ attempts: 3, status: 200 });
    expect(hook.received).toHaveLength(3);
  });

  it('reports a receiver that is down after every attempt', async () => {
    const port = await closedPort();
    const { waits, sleep } = recordingSleep();
    const error = await createWebhookNotifier({ url: `http://127.0.0.1:${port}/hook`, retries: 2, sleep })
      .send(failureNotification())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).attempts).toBe(3);
    expect((error as Error).message).toMatch(/could not be reached: .*ECONNREFUSED/);
    expect(waits).toHaveLength(2);
  });

  it('sends no signature headers without a secret, but still the delivery id', async () => {
    const hook = await receiver([{ status: 200 }]);
    const notification = failureNotification();
    await createWebhookNotifier({ url: hook.url, headers: { authorization: 'Bearer relay-token' } }).send(notification);
    const headers = hook.received[0]?.headers ?? {};
    expect(headers['webhook-id']).toBe(notification.id);
    expect(headers['webhook-signature']).toBeUndefined();
    expect(headers.authorization).toBe('Bearer relay-token');
  });
});
