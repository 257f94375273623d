import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileAccessStore } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const fresh = () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tickwork-access-')), 'access');
  dirs.push(dir);
  return dir;
};
const actor = { id: 't1', name: 'ada', role: 'admin' as const, via: 'token' as const };

describe('the file access store', () => {
  it('shares tokens and audit ids between two instances on one directory (the CLI beside a running dashboard)', async () => {
    const dir = fresh();
    const a = createFileAccessStore({ directory: dir });
    const b = createFileAccessStore({ directory: dir });
    const now = new Date('2026-06-01T10:00:00Z');
    const { secret } = await a.createToken({ name: 'ci', role: 'viewer', expiresAt: null, now });
    expect(await b.verifyToken(secret, now)).toMatchObject({ status: 'ok', token: { name: 'ci', role: 'viewer' } });
    for (const store of [a, b, a, b]) await store.appendAudit({ at: now, actor, action: 'job.pause', target: { code: 'x' }, before: null, after: null });
    expect((await a.listAudit()).entries.map((e) => e.id)).toEqual([4, 3, 2, 1]);
    expect(await a.revokeToken((await b.listTokens())[0]?.id as string)).toBe(true);
    expect(await b.verifyToken(secret, now)).toEqual({ status: 'unknown' });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'tokens.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'audit.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('skips a torn last audit line (a crash mid-append) and keeps numbering after it', async () => {
    const dir = fresh();
    const store = createFileAccessStore({ directory: dir });
    const now = new Date('2026-06-01T10:00:00Z');
    await store.appendAudit({ at: now, actor, action: 'job.pause', target: {}, before: null, after: null });
    appendFileSync(join(dir, 'audit.jsonl'), '{"id":2,"at":"2026-');
    const again = createFileAccessStore({ directory: dir });
    await again.appendAudit({ at: now, actor, action: 'job.resume', target: {}, before: null, after: null });
    expect((await again.listAudit()).entries.map((e) => [e.id, e.action])).toEqual([
      [2, 'job.resume'],
      [1, 'job.pause'],
    ]);
  });

  it('refuses a token with a bad role or name, writing nothing', async () => {
    const store = createFileAccessStore({ directory: fresh() });
    const now = new Date();
    await expect(store.createToken({ name: 'x', role: 'root' as never, expiresAt: null, now })).rejects.toThrow(/role must be viewer, operator or admin/);
    await expect(store.createToken({ name: ' ', role: 'viewer', expiresAt: null, now })).rejects.toThrow(/name must be 1 … 100 characters/);
    expect(await store.listTokens()).toEqual([]);
  });
});
