import { InvalidArgumentError } from '@tickwork/core';
import { MAX_AUDIT_ENTRY_BYTES, type AccessTokenRecord, type AuditInput } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { instantAt } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';

const ACTOR = { id: 'a1b2c3', name: 'ops', role: 'operator', via: 'token' };

function entry(n: number, overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    at: instantAt(n * 1_000),
    actor: ACTOR,
    action: 'job.pause',
    target: { code: `job-${n}`, key: '' },
    before: { paused: false, note: null },
    after: { paused: true, note: `note ${n}`, list: [1, 'two', { three: null }] },
    ...overrides,
  };
}

function token(id: string, createdMs: number, overrides: Partial<AccessTokenRecord> = {}): AccessTokenRecord {
  return { id, name: `token ${id}`, role: 'viewer', hash: 'ab'.repeat(32), createdAt: instantAt(createdMs), expiresAt: null, ...overrides };
}

/** The audit log (append, cursor pages newest first, retention) and access tokens, shared by every instance on the backend. */
export function describeAccess(h: StoreHarness): void {
  describe('audit log', () => {
    it('appendAudit returns the row with an increasing id; listAudit pages it newest first by cursor, from any instance', async () => {
      const other = await h.open();
      const appended = [];
      for (let n = 1; n <= 5; n += 1) appended.push(await (n % 2 === 0 ? other : h.store).appendAudit(entry(n)));
      expect(appended[0]).toEqual({ id: appended[0]?.id, ...entry(1) });
      const ids = appended.map((row) => Number(row.id));
      expect(ids.every((id, i) => Number.isInteger(id) && id > 0 && (i === 0 || id > (ids[i - 1] as number)))).toBe(true);

      const first = await other.listAudit({ limit: 2 });
      expect(first.entries).toEqual([appended[4], appended[3]]);
      expect(first.entries[0]?.at).toBeInstanceOf(Date);
      const second = await h.store.listAudit({ limit: 2, cursor: first.nextCursor });
      expect(second.entries).toEqual([appended[2], appended[1]]);
      const last = await h.store.listAudit({ limit: 2, cursor: second.nextCursor });
      expect(last).toEqual({ entries: [appended[0]], nextCursor: null });
      expect(await h.store.listAudit()).toEqual({ entries: [...appended].reverse(), nextCursor: null });
      expect(await h.store.listAudit({ limit: 5 })).toEqual({ entries: [...appended].reverse(), nextCursor: null });
    });

    it('an empty log lists nothing; before and after may be any JSON value, null included', async () => {
      expect(await h.store.listAudit()).toEqual({ entries: [], nextCursor: null });
      const row = await h.store.appendAudit(entry(1, { action: 'token.create', target: { token: 't1' }, before: null, after: 'text' }));
      expect(row).toMatchObject({ action: 'token.create', target: { token: 't1' }, before: null, after: 'text' });
      expect((await h.store.listAudit()).entries).toEqual([row]);
    });

    it('bad entries and queries are refused naming the field, and nothing is appended', async () => {
      const bad: [string, unknown][] = [
        ['at', entry(1, { at: new Date(Number.NaN) })],
        ['actor.name', entry(1, { actor: { ...ACTOR, name: '' } })],
        ['action', entry(1, { action: 'x'.repeat(101) })],
        ['target.job', entry(1, { target: { job: 'x' } as never })],
        ['after', entry(1, { after: { n: Number.POSITIVE_INFINITY } })],
        ['bytes', entry(1, { after: 'x'.repeat(MAX_AUDIT_ENTRY_BYTES) })],
      ];
      for (const [field, value] of bad) {
        const error = await h.store.appendAudit(value as AuditInput).catch((e: unknown) => e);
        expect(error, field).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message, field).toContain(field);
      }
      expect((await h.store.listAudit()).entries).toEqual([]);
      for (const query of [{ limit: 0 }, { limit: 1001 }, { cursor: 'nope' }, { cursor: '-3' }]) {
        await expect(h.store.listAudit(query)).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      await expect(h.store.pruneAudit({ olderThan: new Date(Number.NaN) })).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('pruneAudit deletes the rows older than the retention, in batches, and keeps the rest', async () => {
      const rows = [];
      for (let n = 1; n <= 7; n += 1) rows.push(await h.store.appendAudit(entry(n)));
      expect(await h.store.pruneAudit({ olderThan: instantAt(5_000), batchSize: 2 })).toBe(4);
      expect((await h.store.listAudit()).entries).toEqual([rows[6], rows[5], rows[4]]);
      expect(await h.store.pruneAudit({ olderThan: instantAt(5_000) })).toBe(0);
      // Ids keep increasing after a prune.
      const next = await h.store.appendAudit(entry(8));
      expect(Number(next.id)).toBeGreaterThan(Number(rows[6]?.id));
    });

    it('appends racing from several instances all land, each with its own id', async () => {
      const stores = [h.store, ...(await h.openMany(Math.min(h.raceInstances, 8) - 1))];
      const rows = await Promise.all(stores.flatMap((store, i) => [0, 1, 2].map((j) => store.appendAudit(entry(i * 10 + j)))));
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      const listed = await h.store.listAudit({ limit: 1000 });
      expect(listed.entries.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
    });
  });

  describe('access tokens', () => {
    it('addAccessToken keeps a token every instance reads; listAccessTokens is oldest first; removeAccessToken ends it', async () => {
      const other = await h.open();
      const b = await h.store.addAccessToken(token('tok-b', 2_000, { role: 'admin', expiresAt: instantAt(90_000) }));
      const a = await other.addAccessToken(token('tok-a', 1_000));
      const c = await h.store.addAccessToken(token('tok-c', 2_000));
      expect(b).toEqual(token('tok-b', 2_000, { role: 'admin', expiresAt: instantAt(90_000) }));
      expect(await other.getAccessToken('tok-b')).toEqual(b);
      expect(await h.store.listAccessTokens()).toEqual([a, b, c]);
      expect(await other.removeAccessToken('tok-b')).toBe(true);
      expect(await h.store.removeAccessToken('tok-b')).toBe(false);
      expect(await h.store.getAccessToken('tok-b')).toBeNull();
      expect(await h.store.getAccessToken('no such id!')).toBeNull();
      expect(await h.store.listAccessTokens()).toEqual([a, c]);
    });

    it('a taken id or a bad field is refused naming it, and nothing is added', async () => {
      await h.store.addAccessToken(token('tok-a', 1_000));
      const duplicate = await h.store.addAccessToken(token('tok-a', 5_000, { name: 'again' })).catch((e: unknown) => e);
      expect(duplicate).toBeInstanceOf(InvalidArgumentError);
      expect((duplicate as Error).message).toContain('tok-a');
      for (const [field, bad] of [
        ['id', token('bad id', 1)],
        ['name', token('t2', 1, { name: '' })],
        ['hash', token('t3', 1, { hash: 'x'.repeat(201) })],
        ['expiresAt', token('t4', 1, { expiresAt: new Date(Number.NaN) })],
      ] as const) {
        const error = await h.store.addAccessToken(bad).catch((e: unknown) => e);
        expect(error, field).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message, field).toContain(field);
      }
      expect((await h.store.listAccessTokens()).map((t) => t.name)).toEqual(['token tok-a']);
    });

    it('the same id added from racing instances is kept once', async () => {
      const stores = [h.store, ...(await h.openMany(Math.min(h.raceInstances, 8) - 1))];
      const results = await Promise.allSettled(
        stores.map((store, i) => store.addAccessToken(token('tok-race', 1_000, { name: `racer ${i}` }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof InvalidArgumentError)).toHaveLength(stores.length - 1);
      expect(await h.store.listAccessTokens()).toHaveLength(1);
    });
  });
}
