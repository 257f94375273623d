import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function unchanged(): Promise<void> {
  expect(await h.store.getStates([{ code: 'cleanup', key: '' }])).toEqual([]);
  expect((await h.store.listAudit()).entries).toEqual([]);
}

describe('CSRF and Origin checks on every mutation', () => {
  it('refuses a signed-in mutation without the CSRF header (403), changing nothing', async () => {
    const admin = await h.client('admin');
    const res = await admin.send('POST', 'api/jobs/cleanup/pause', { note: 'x' }, { csrf: false });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/CSRF token missing/);
    await unchanged();
  });

  it('refuses a CSRF token of another session', async () => {
    const admin = await h.client('admin');
    const other = await h.client('admin');
    const res = await admin.send('POST', 'api/jobs/cleanup/pause', {}, { csrf: false, headers: { 'x-csrf-token': other.csrf } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/does not match this session/);
    await unchanged();
  });

  it('refuses another Origin and a cross-site fetch even with the right token', async () => {
    const admin = await h.client('admin');
    const foreign = await admin.send('POST', 'api/jobs/cleanup/pause', {}, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { message: string }).message).toMatch(/Origin https:\/\/evil.example is not this dashboard's/);
    const crossSite = await admin.send('POST', 'api/jobs/cleanup/pause', {}, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    await unchanged();
  });

  it('refuses a sign-in posted from another origin', async () => {
    const res = await fetch(new URL('api/session', h.url), {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ token: await h.token('admin') }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('accepts the same mutation with the session CSRF token and its own Origin', async () => {
    const admin = await h.client('admin');
    expect((await admin.send('POST', 'api/jobs/cleanup/pause', {})).status).toBe(200);
  });
});
