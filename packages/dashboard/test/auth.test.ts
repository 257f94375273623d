import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeClock } from '@tickwork/core';
import { Client, startHarness, type Harness } from './support.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('authentication', () => {
  it('answers 401 to every API route without a session or token, and shows nothing', async () => {
    const anonymous = new Client(h.url, h.origin);
    for (const path of ['api/jobs', 'api/me', 'api/jobs/cleanup/runs', 'api/audit', 'api/events']) {
      const res = await anonymous.send('GET', path);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { message: string }).message).toMatch(/sign in/);
    }
  });

  it('refuses an unknown token with 401 and a clear message', async () => {
    const client = new Client(h.url, h.origin);
    const res = await client.signIn('tw_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toBe('[tickwork] [dashboard] unknown token');
    const bearer = await fetch(new URL('api/jobs', h.url), { headers: { authorization: 'Bearer nonsense' } });
    expect(bearer.status).toBe(401);
  });

  it('refuses an expired token with 401 naming it, and ends sessions whose token expired', async () => {
    const token = await h.token('viewer', { expiresIn: 60_000 });
    const client = new Client(h.url, h.origin);
    expect((await client.signIn(token)).status).toBe(200);
    expect((await client.send('GET', 'api/jobs')).status).toBe(200);
    (h.clock as FakeClock).advance(61_000);
    const res = await client.send('GET', 'api/jobs');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/token "viewer-user" expired at 2026-06-01T10:01:00.000Z/);
    expect((await new Client(h.url, h.origin).signIn(token)).status).toBe(401);
  });

  it('stores tokens only as hashes, and a revoked token ends its sessions', async () => {
    const admin = await h.client('admin');
    const created = await admin.json('POST', 'api/tokens', { name: 'ci', role: 'viewer' });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const stored = JSON.stringify(await h.store.listAccessTokens());
    expect(stored).not.toContain(secret.slice('tw_'.length + 13));
    expect(stored).toMatch(/"hash":"[a-f0-9]{64}"/);
    const viewer = new Client(h.url, h.origin);
    await viewer.signIn(secret);
    expect((await viewer.send('GET', 'api/jobs')).status).toBe(200);
    expect((await admin.send('DELETE', `api/tokens/${created.body.token.id}`)).status).toBe(200);
    expect((await viewer.send('GET', 'api/jobs')).status).toBe(401);
  });

  it('accepts a bearer token without a session (no CSRF needed: browsers never send it on their own)', async () => {
    const token = await h.token('operator');
    const res = await fetch(new URL('api/jobs/cleanup/pause', h.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"note":"api"}',
    });
    expect(res.status).toBe(200);
    const [state] = await h.store.getStates([{ code: 'cleanup', key: '' }]);
    expect(state?.pausedNote).toBe('api');
  });

  it('uses the host hook when it names a user, with the role it gives', async () => {
    await h.close();
    h = await startHarness({
      extra: { authenticate: (req) => (req.headers['x-user'] === 'ada' ? { id: 'u1', name: 'ada', role: 'operator', via: 'host' } : null) },
    });
    const anonymous = await fetch(new URL('api/me', h.url));
    expect(anonymous.status).toBe(401);
    const me = await fetch(new URL('api/me', h.url), { headers: { 'x-user': 'ada' } });
    const body = (await me.json()) as { name: string; role: string; csrf: string };
    expect(body).toMatchObject({ name: 'ada', role: 'operator' });
    const noCsrf = await fetch(new URL('api/jobs/cleanup/pause', h.url), { method: 'POST', headers: { 'x-user': 'ada' } });
    expect(noCsrf.status).toBe(403);
    const ok = await fetch(new URL('api/jobs/cleanup/pause', h.url), {
      method: 'POST',
      headers: { 'x-user': 'ada', 'x-csrf-token': body.csrf },
    });
    expect(ok.status).toBe(200);
    const { entries } = await h.store.listAudit();
    expect(entries[0]).toMatchObject({ action: 'job.pause', actor: { name: 'ada', via: 'host', role: 'operator' } });
  });

  it('sets strict security headers on pages, assets and API answers', async () => {
    for (const path of ['', 'assets/app.js', 'api/jobs']) {
      const res = await fetch(new URL(path, h.url));
      expect(res.status, path).toBe(path === 'api/jobs' ? 401 : 200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const cookie = (await new Client(h.url, h.origin).signIn(await h.token('viewer'))).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
  });
});

describe('roles', () => {
  it('refuses a viewer every mutation with 403, changing nothing and auditing nothing', async () => {
    const viewer = await h.client('viewer');
    const attempts: Array<[string, string, unknown]> = [
      ['POST', 'api/jobs/cleanup/pause', { note: 'x' }],
      ['POST', 'api/jobs/cleanup/trigger', {}],
      ['POST', 'api/bulk', { action: 'pause', targets: [{ code: 'cleanup' }] }],
      ['PUT', 'api/jobs/reports.daily/schedules/acme', { kind: 'cron', expression: '0 * * * *' }],
      ['POST', 'api/tokens', { name: 'x', role: 'admin' }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await viewer.send(method, path, body);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { message: string }).message).toMatch(/needs the (operator|admin) role; "viewer-user" is viewer/);
    }
    expect(await h.store.getStates([{ code: 'cleanup', key: '' }])).toEqual([]);
    expect(await h.store.pendingRunRequests()).toEqual([]);
    expect((await h.store.listSchedules()).schedules).toEqual([]);
    expect((await h.store.listAudit()).entries).toEqual([]);
  });

  it('lets an operator pause and trigger but not edit schedules or tokens', async () => {
    const operator = await h.client('operator');
    expect((await operator.send('POST', 'api/jobs/cleanup/pause', { note: 'maintenance' })).status).toBe(200);
    expect((await operator.send('POST', 'api/jobs/cleanup/trigger')).status).toBe(202);
    expect((await operator.send('PUT', 'api/jobs/reports.daily/schedules/acme', { kind: 'cron', expression: '0 * * * *' })).status).toBe(
      403,
    );
    expect((await operator.send('GET', 'api/tokens')).status).toBe(403);
    const { entries } = await h.store.listAudit();
    expect(entries.map((e) => e.action)).toEqual(['job.trigger', 'job.pause']);
    expect(entries[1]).toMatchObject({
      actor: { name: 'operator-user', role: 'operator', via: 'token' },
      target: { code: 'cleanup', key: '' },
      before: { paused: false, note: null },
      after: { paused: true, note: 'maintenance' },
    });
  });
});
