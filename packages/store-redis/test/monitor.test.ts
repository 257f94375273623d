import { describe, expect, it } from 'vitest';
import { parseMonitorLine, startMonitor } from './monitor.js';
import { adminClient, randomPrefix, REDIS_URL } from './redis-fixture.js';

describe('the MONITOR helper of these tests', () => {
  it('parses a command line with its source and escaped arguments', () => {
    expect(parseMonitorLine('+1712098529.327989 [0 lua] "hget" "a \\"b\\"" "c\\\\d\\x01\\n"')).toEqual({
      args: ['hget', 'a "b"', 'c\\d\x01\n'],
      source: 'lua',
    });
    expect(parseMonitorLine('+1712098529.327989 [0 127.0.0.1:55878] "info" "server"')).toEqual({
      args: ['info', 'server'],
      source: '127.0.0.1:55878',
    });
    expect(parseMonitorLine('+OK')).toBeNull();
  });

  // ioredis's monitor() threw "Command queue state error" when a command line arrived with MONITOR's +OK:
  // a client that never pauses makes that likely within a few starts.
  it('starts and stops 100 times beside a busy client, then sees each marker', async () => {
    const admin = await adminClient();
    const busy = await adminClient();
    let running = true;
    const load = (async () => {
      while (running) await busy.info('server');
    })();
    try {
      for (let i = 0; i < 100; i++) {
        const marker = `${randomPrefix('monitor')}:marker`;
        let seen!: () => void;
        const sawMarker = new Promise<void>((resolve) => {
          seen = resolve;
        });
        const monitor = await startMonitor(REDIS_URL, ({ args }) => {
          if (args[0]?.toLowerCase() === 'exists' && args[1] === marker) seen();
        });
        await admin.exists(marker);
        await sawMarker;
        monitor.stop();
      }
    } finally {
      running = false;
      await load;
      admin.disconnect();
      busy.disconnect();
    }
  }, 120_000);
});
