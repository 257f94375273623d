import { createServer } from 'node:net';
import { createMemoryStore, defineJob, silentLogger } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { createDaemon, DaemonOptionError, DaemonStartError } from '../src/index.js';

const job = defineJob({ code: 'ok', schedule: '* * * * *', run: () => undefined });

describe('bad input', () => {
  it('a config with no jobs is refused before anything starts, naming the field', () => {
    expect(() => createDaemon({ config: { jobs: [], store: createMemoryStore() } })).toThrow(DaemonOptionError);
    expect(() => createDaemon({ config: { jobs: [], store: createMemoryStore() } })).toThrow(
      /\[tickwork\] \[runner-daemon\] config\.jobs: .*at least one job/,
    );
  });

  it('unknown and invalid options are refused, naming the option', () => {
    const store = createMemoryStore();
    expect(() => createDaemon({ jobs: [job], store }, { pollIntervalMs: -1 })).toThrow(
      /pollIntervalMs must be an integer from 10 to 2147483647, got -1/,
    );
    // Node clamps longer timers to 1 ms: a "very long" grace would end at once.
    expect(() => createDaemon({ jobs: [job], store }, { shutdownGraceMs: 2 ** 31 })).toThrow(
      /shutdownGraceMs must be an integer from 0 to 2147483647/,
    );
    expect(() => createDaemon({ jobs: [job], store }, { pollInterval: 5 } as never)).toThrow(/"pollInterval" is not a known option/);
    expect(() => createDaemon({ config: { jobs: [job], store, daemon: { preclaimMs: 5 } } })).toThrow(
      /config\.daemon: "preclaimMs" is not a known option/,
    );
    expect(() => createDaemon({ jobs: [job], store }, { http: { port: 70_000 } })).toThrow(/http\.port must be an integer 0 … 65535/);
  });

  it('a port in use rejects ready and done with a clear error, and nothing is claimed', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const store = createMemoryStore();
    try {
      const daemon = createDaemon({ jobs: [job], store }, { logger: silentLogger, http: { port } });
      await expect(daemon.ready).rejects.toThrow(DaemonStartError);
      await expect(daemon.done).rejects.toThrow(new RegExp(`http: port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(await store.getStates()).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('one invalid stored schedule override does not keep the daemon (or the other jobs) from starting', async () => {
    const store = createMemoryStore();
    const other = defineJob({ code: 'other', schedule: '* * * * *', run: () => undefined });
    await store.setScheduleOverride({ code: 'ok', key: '' }, { kind: 'cron', expression: '61 * * * *' }, new Date());
    const daemon = createDaemon({ jobs: [job, other], store }, { logger: silentLogger });
    await daemon.ready;
    expect(await daemon.health()).toMatchObject({ ok: true, scheduled: 1 });
    await daemon.stop();
  });

  it('stop() during start-up releases what start-up opened afterwards: the store and the HTTP server', async () => {
    const inner = createMemoryStore();
    let closed = 0;
    const factory = async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return Object.assign(Object.create(inner) as typeof inner, { close: async () => void closed++ });
    };
    const daemon = createDaemon({ jobs: [job], store: factory }, { logger: silentLogger, http: { port: 0 } });
    await daemon.stop();
    await daemon.ready.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(1);
    expect(daemon.address).toBeNull();
  });
});
