/**
 * stop() on PostgreSQL while a periodic round (here the dead-man check) is in flight: the store
 * is closed only after the round ended, so the round's store call is answered on an open pool
 * and nothing "Cannot use a pool after calling end" is logged. Exact, not timing luck: the
 * round's `claimOverdue` waits on a gate the test opens once stop() is waiting for it (or, when
 * stop() does not wait, once the store was closed, which then fails the call every time).
 */
import { defineJob, type Logger, type Store } from '@tickwork/core';
import { decorateStore } from '@tickwork/core/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDaemon } from '../src/index.js';
import { postgresKit } from './store-kits.js';

/** A logger keeping every line (child loggers included). */
function capturingLogger(): Logger & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const make = (bound: Record<string, unknown>): Logger => {
    const at = (level: string) => (fields: Record<string, unknown>, msg: string) =>
      lines.push({ level, msg, fields: { ...bound, ...fields } });
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more: Record<string, unknown>) => make({ ...bound, ...more }),
    } as Logger;
  };
  return Object.assign(make({}), { lines });
}

const kit = postgresKit();

beforeAll(async () => {
  await kit.setup();
}, 60_000);

afterAll(async () => {
  await kit.teardown();
});

describe('stop() on PostgreSQL', () => {
  it('waits for a periodic round in flight before closing the store: the round is answered, nothing about an ended pool is logged', async () => {
    const logger = capturingLogger();
    let gateOpen!: () => void;
    const gate = new Promise<void>((resolve) => {
      gateOpen = resolve;
    });
    let entered!: () => void;
    const roundEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const events: string[] = [];
    let gated = false;
    const open = async (): Promise<Store> => {
      const pg = await kit.open();
      const store = decorateStore(pg, {
        replace: {
          // The first dead-man round blocks inside its store call until the gate opens, then asks PostgreSQL.
          async claimOverdue(options) {
            if (gated) return pg.claimOverdue(options);
            gated = true;
            entered();
            await gate;
            events.push('round resumed');
            try {
              const answer = await pg.claimOverdue(options);
              events.push('round answered');
              return answer;
            } catch (error) {
              events.push(`round failed: ${(error as Error).message}`);
              throw error;
            }
          },
        },
      });
      // A close that does not wait for the round lets it go on against the ended pool.
      store.close = async () => {
        events.push('store closed');
        await pg.close();
        gateOpen();
      };
      return store;
    };
    // A waiting stop() says so: that is when the gate opens (while stop() is in progress).
    const onLine = logger.lines.push.bind(logger.lines);
    logger.lines.push = (...lines) => {
      for (const line of lines) if (line.msg.startsWith('stopping: waiting for periodic store work')) gateOpen();
      return onLine(...lines);
    };
    const job = defineJob({ code: 'quiet', schedule: '0 0 1 1 *', run: () => undefined });
    const daemon = createDaemon({ jobs: [job], store: open }, { logger, runnerId: 'pg-stop-1', overdueIntervalMs: 100 });
    await daemon.ready;
    await roundEntered;
    await daemon.stop();
    expect(events).toEqual(['round resumed', 'round answered', 'store closed']);
    const failures = logger.lines.filter((line) => line.level === 'warn' || line.level === 'error');
    expect(failures).toEqual([]);
    expect(logger.lines.some((line) => JSON.stringify(line).includes('after calling end'))).toBe(false);
  }, 60_000);
});
