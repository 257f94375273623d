import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBackend,
  createMemoryStore,
  defineConfig,
  every,
  type MemoryBackend,
  type Store,
  type TickworkConfig,
} from '@tickwork/core';
import { runCli } from '../src/program.js';
import { captureIo } from './fixtures/capture.js';

const opened: Store[] = [];

function configWith(backend: MemoryBackend, extra: Partial<TickworkConfig>): TickworkConfig {
  return defineConfig({
    jobs: [{ code: 'report', schedule: every('10m'), run: () => undefined }],
    store: () => {
      const store = createMemoryStore({ backend });
      opened.push(store);
      return store;
    },
    ...extra,
  });
}

async function cli(config: TickworkConfig, argv: string[], now: string) {
  const io = captureIo({ TICKWORK_NOW: now });
  const code = await runCli(argv, { io, config });
  return { code, out: io.out(), err: io.errText() };
}

async function slots(backend: MemoryBackend): Promise<string[]> {
  const store = createMemoryStore({ backend });
  opened.push(store);
  const { runs } = await store.queryRuns({ code: 'report' });
  // Skipped-range records (slots passed over between ticks) are left out: they follow the same retention.
  return runs.filter((r) => r.status !== 'skipped').map((r) => r.slotAt.toISOString().slice(11, 16));
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
});

describe('tickwork run: retention without a daemon', () => {
  it('prunes finished runs past the retention at most once an hour, counted from the last prune', async () => {
    const backend = createMemoryBackend();
    const config = configWith(backend, { retention: '2h' });

    expect((await cli(config, ['run'], '2026-01-05T10:00:05Z')).code).toBe(0); // first prune of the store: nothing old
    expect((await cli(config, ['run'], '2026-01-05T11:30:05Z')).code).toBe(0); // prunes (nothing before 09:30)
    expect(await slots(backend)).toEqual(['11:30', '10:00']);

    // 10:00 is past the retention at 12:20, but the last prune was 50 min ago: kept.
    expect((await cli(config, ['run'], '2026-01-05T12:20:05Z')).code).toBe(0);
    expect(await slots(backend)).toEqual(['12:20', '11:30', '10:00']);

    // An hour after the last prune: runs finished before 10:30:05 go, the others stay.
    expect((await cli(config, ['run'], '2026-01-05T12:30:05Z')).code).toBe(0);
    expect(await slots(backend)).toEqual(['12:30', '12:20', '11:30']);
  });

  it('--dry-run never prunes nor takes the hour; a real run afterwards does', async () => {
    const backend = createMemoryBackend();
    const config = configWith(backend, { retention: '2h' });
    expect((await cli(config, ['run'], '2026-01-05T10:00:05Z')).code).toBe(0);
    expect((await cli(config, ['run', '--dry-run'], '2026-01-05T13:00:05Z')).code).toBe(0);
    expect(await slots(backend)).toEqual(['10:00']);
    expect((await cli(config, ['run'], '2026-01-05T13:00:06Z')).code).toBe(0);
    expect(await slots(backend)).toEqual(['13:00']);
  });

  it('retention: null never prunes', async () => {
    const backend = createMemoryBackend();
    const config = configWith(backend, { retention: null });
    expect((await cli(config, ['run'], '2026-01-05T10:00:05Z')).code).toBe(0);
    expect((await cli(config, ['run'], '2026-01-09T10:00:05Z')).code).toBe(0);
    expect(await slots(backend)).toEqual(['10:00', '10:00']);
  });
});
