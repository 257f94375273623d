import { createMemoryStore, defineJob, silentLogger } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { createDaemon } from '../src/index.js';
import { flaky } from './fixtures.js';

describe('HTTP endpoint', () => {
  it('serves /healthz (200, then 503 with the reason while the store is down) and /metrics', async () => {
    const store = flaky(createMemoryStore());
    const job = defineJob({ code: 'metered', schedule: '* * * * * *', run: () => undefined });
    const daemon = createDaemon({ jobs: [job], store }, { logger: silentLogger, http: { port: 0 }, runnerId: 'web-1', preClaimMs: 100 });
    try {
      await daemon.ready;
      const base = `http://127.0.0.1:${daemon.address?.port}`;
      const ok = await fetch(`${base}/healthz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ ok: true, store: 'reachable', timersArmed: true });

      await new Promise((resolve) => setTimeout(resolve, 1_300));
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/tickwork_runs_total\{job="metered",status="succeeded",runner="web-1"\} [1-9]/);
      expect(metrics).toMatch(/tickwork_run_lateness_seconds_count\{runner="web-1",job="metered"\} [1-9]/);
      expect(metrics).toContain('tickwork_store_errors_total');

      store.down = true;
      const down = await fetch(`${base}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        ok: false,
        store: 'unreachable',
        reason: expect.stringMatching(/store unreachable: ping: .*connection refused/),
      });
      store.down = false;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${base}/nope`)).text()).toMatch(/not found/);
    } finally {
      await daemon.stop();
    }
  });
});
