import { createFakeClock, createMemoryBackend, createMemoryStore } from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreAccess } from '../src/index.js';
import { Client, startHarness, type Harness } from './support.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

describe('tokens, sessions and the audit log live in the store', () => {
  it('two dashboards on one store share tokens, sessions and the audit log; revoking on one ends the session on both', async () => {
    const backend = createMemoryBackend();
    const clock = createFakeClock('2026-06-01T10:00:00Z');
    const a = await startHarness({ store: createMemoryStore({ backend }), clock });
    const b = await startHarness({ store: createMemoryStore({ backend }), clock });
    harnesses.push(a, b);
    // A token created through A's store (as the CLI would) signs in on B; B's cookie works on A.
    const secret = await a.token('operator');
    const onB = new Client(b.url, b.origin);
    expect((await onB.signIn(secret)).status).toBe(200);
    const onA = new Client(a.url, a.origin);
    onA.cookie = onB.cookie;
    onA.csrf = onB.csrf;
    expect((await onA.json('GET', 'api/me')).body).toMatchObject({ name: 'operator-user', role: 'operator' });
    expect((await onA.send('POST', 'api/jobs/cleanup/pause', { note: 'from A' })).status).toBe(200);
    // The row A wrote is B's audit log too, with who, what, before → after.
    const { body } = await onB.json('GET', 'api/audit');
    expect(body.entries).toMatchObject([
      {
        action: 'job.pause',
        actor: { name: 'operator-user', role: 'operator', via: 'token' },
        target: { code: 'cleanup', key: '' },
        before: { paused: false },
        after: { paused: true, note: 'from A' },
      },
    ]);
    expect((await createMemoryStore({ backend }).listAudit()).entries).toHaveLength(1);

    const admin = await b.client('admin');
    const [operator] = (await b.access.listTokens()).filter((t) => t.role === 'operator');
    expect((await admin.send('DELETE', `api/tokens/${operator?.id}`)).status).toBe(200);
    expect((await onA.send('GET', 'api/me')).status).toBe(401);
    expect((await onB.send('GET', 'api/me')).status).toBe(401);
  });

  it('a session cookie whose expiry was edited, or signed for another token, is refused (401)', async () => {
    const h = await startHarness();
    harnesses.push(h);
    const viewer = await h.client('viewer');
    const other = await h.client('admin');
    expect((await viewer.send('GET', 'api/me')).status).toBe(200);
    const [name, value] = viewer.cookie.split('=') as [string, string];
    const parts = value.split('.');
    const extended = new Client(h.url, h.origin);
    extended.cookie = `${name}=${[parts[0], parts[1], parts[2], String(Number(parts[3]) + 86_400_000), parts[4]].join('.')}`;
    expect((await extended.send('GET', 'api/me')).status).toBe(401);
    const swapped = new Client(h.url, h.origin);
    const adminId = other.cookie.split('=')[1]?.split('.')[1];
    swapped.cookie = `${name}=${[parts[0], adminId, ...parts.slice(2)].join('.')}`;
    expect((await swapped.send('GET', 'api/me')).status).toBe(401);
  });

  it('a session expires after sessionTtlMs unused, and each use (at most once a minute) pushes its expiry forward', async () => {
    const clock = createFakeClock('2026-06-01T10:00:00Z');
    const h = await startHarness({ clock, extra: { sessionTtlMs: 600_000 } });
    harnesses.push(h);
    const viewer = await h.client('viewer');
    for (let i = 0; i < 3; i += 1) {
      clock.advance(400_000);
      const res = await viewer.send('GET', 'api/me');
      expect(res.status).toBe(200);
      const renewed = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
      expect(renewed).toMatch(/^tickwork_dashboard=v1\./);
      viewer.cookie = renewed;
    }
    clock.advance(600_000);
    expect((await viewer.send('GET', 'api/me')).status).toBe(401);
  });

  it('refuses a token with a bad role or name, storing nothing', async () => {
    const store = createMemoryStore();
    const access = createStoreAccess(store);
    const now = new Date();
    await expect(access.createToken({ name: 'x', role: 'root' as never, expiresAt: null, now })).rejects.toThrow(
      /role must be viewer, operator or admin/,
    );
    await expect(access.createToken({ name: ' ', role: 'viewer', expiresAt: null, now })).rejects.toThrow(
      /name must be 1 … 100 characters/,
    );
    expect(await store.listAccessTokens()).toEqual([]);
  });

  it('keeps only the SHA-256 of the secret in the store', async () => {
    const store = createMemoryStore();
    const { secret, token } = await createStoreAccess(store).createToken({ name: 'ci', role: 'viewer', expiresAt: null, now: new Date() });
    const [stored] = await store.listAccessTokens();
    expect(stored).toMatchObject({ id: token.id, role: 'viewer' });
    expect(stored?.hash).toMatch(/^[a-f0-9]{64}$/);
    // The secret part is base64url, so it may itself hold '_': cut the known prefix, never split on '_'.
    const prefix = `tw_${token.id}_`;
    expect(secret.startsWith(prefix)).toBe(true);
    const secretPart = secret.slice(prefix.length);
    expect(secretPart.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(stored)).not.toContain(secretPart);
  });
});
