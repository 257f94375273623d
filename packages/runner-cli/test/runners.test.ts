import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBackend, createMemoryStore, defineConfig, every, type Store } from '@tickwork/core';
import { runCli } from '../src/program.js';
import { captureIo } from './fixtures/capture.js';

const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
});

async function cli(store: () => Store, argv: string[], now: string) {
  const config = defineConfig({ jobs: [{ code: 'report', schedule: every('5m'), run: () => undefined }], store });
  const io = captureIo({ TICKWORK_NOW: now });
  const code = await runCli(argv, { io, config });
  return { code, out: io.out(), err: io.errText() };
}

describe('tickwork runners', () => {
  it('lists each runner with status, start, last heartbeat, clock offset and connection; --json the same', async () => {
    const backend = createMemoryBackend();
    const open = () => {
      const store = createMemoryStore({ backend });
      opened.push(store);
      return store;
    };
    const live = open();
    const gone = open();
    const at = (iso: string) => new Date(iso);
    await live.heartbeat!({
      runnerId: 'host-a:11',
      now: at('2026-01-05T10:00:00Z'),
      ttlMs: 3_000,
      startedAt: at('2026-01-05T09:00:00Z'),
      clockOffsetMs: -12.4,
    });
    await gone.heartbeat!({
      runnerId: 'host-b:22',
      now: at('2026-01-05T09:59:00Z'),
      ttlMs: 3_000,
      startedAt: at('2026-01-05T09:30:00Z'),
      clockOffsetMs: null,
    });
    await gone.close();

    const text = await cli(open, ['runners'], '2026-01-05T10:00:20Z');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/RUNNER\s+STATUS\s+STARTED\s+LAST HEARTBEAT\s+CLOCK OFFSET\s+CONNECTED/);
    expect(text.out).toMatch(/host-a:11\s+alive\s+2026-01-05 09:00:00Z\s+20 s ago\s+-12 ms\s+yes/);
    expect(text.out).toMatch(/host-b:22\s+dead\s+2026-01-05 09:30:00Z\s+1 min ago\s+—\s+no/);
    expect(text.out).toContain('1 alive, 1 dead');

    const json = await cli(open, ['runners', '--json'], '2026-01-05T10:00:20Z');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out) as { now: string; presence: string; runners: Record<string, unknown>[] };
    expect(doc.presence).toBe('connection');
    expect(doc.runners).toEqual([
      {
        runnerId: 'host-a:11',
        startedAt: '2026-01-05T09:00:00.000Z',
        lastHeartbeatAt: '2026-01-05T10:00:00.000Z',
        expiresAt: '2026-01-05T10:00:03.000Z',
        clockOffsetMs: -12.4,
        connected: true,
        alive: true,
      },
      {
        runnerId: 'host-b:22',
        startedAt: '2026-01-05T09:30:00.000Z',
        lastHeartbeatAt: '2026-01-05T09:59:00.000Z',
        expiresAt: '2026-01-05T09:59:03.000Z',
        clockOffsetMs: null,
        connected: false,
        alive: false,
      },
    ]);
  });

  it('says so when no runner ever beat, and exits 3 on a store without runner presence', async () => {
    const backend = createMemoryBackend();
    const empty = await cli(() => createMemoryStore({ backend }), ['runners'], '2026-01-05T10:00:00Z');
    expect(empty.code).toBe(0);
    expect(empty.out).toContain('no runner has sent a heartbeat');
    const bare = () => {
      const inner = createMemoryStore({ backend });
      return new Proxy(inner, {
        get: (target, property) =>
          property === 'listRunners' || property === 'heartbeat'
            ? undefined
            : property === 'capabilities'
              ? { changeSubscription: true }
              : Reflect.get(target, property),
      }) as Store;
    };
    const refused = await cli(bare, ['runners'], '2026-01-05T10:00:00Z');
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(/keeps no runner presence/);
  });
});
