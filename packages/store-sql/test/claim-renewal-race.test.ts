import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '@tickwork/core';
import { createSqlStore } from '../src/index.js';
import { PG_URL, pgFixture, pgOptions } from './fixtures.js';

const at = (ms: number) => new Date(Date.UTC(2031, 0, 1) + ms);
const ref = { code: 'race', key: '' };

describe('PostgreSQL: a claim racing a late lease renewal', () => {
  const undo: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of undo.reverse()) await step();
    undo.length = 0;
  });

  it('waits for the renewal to commit and answers overlap, never a second running run', async () => {
    const fixture = await pgFixture();
    undo.push(() => fixture.cleanup());
    const store: Store = createSqlStore(pgOptions(fixture.schema));
    undo.push(() => store.close());
    const claim = (slotMs: number, runnerId: string) =>
      store.claimSlots([{ ...ref, slotAt: at(slotMs), attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 1_000 }], {
        runnerId,
        now: at(Math.max(slotMs, 5_000)),
      });
    const [first] = await claim(0, 'a');
    expect(first?.status).toBe('claimed');
    const runId = first?.status === 'claimed' ? first.run.id : '';

    // Runner A's renewal of its (expired, never reaped) lease, held open in a transaction.
    const renewer = new pg.Client({ connectionString: PG_URL });
    await renewer.connect();
    undo.push(() => renewer.end());
    await renewer.query('BEGIN');
    await renewer.query(`UPDATE "${fixture.schema}".tickwork_run SET lease_expires_at = $2 WHERE id = $1`, [runId, at(65_000)]);

    // Runner B claims the next slot at 5 s, when the lease it can see has expired.
    const pending = claim(60_000, 'b').then((outcomes) => outcomes[0]?.status);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await renewer.query('COMMIT');
    expect(await pending).toBe('overlap');

    const { runs } = await store.queryRuns({ code: 'race' });
    expect(runs.filter((r) => r.status === 'running').map((r) => r.id)).toEqual([runId]);
  });
});
