import { systemClock, type Clock } from '@tickwork/core';
import { CliUsageError } from './errors.js';

/**
 * The CLI's clock. Test hook: env `TICKWORK_NOW` (an ISO instant) fixes the clock at that
 * instant for the whole command, so a test can place a tick anywhere and get the same
 * output every time (durations then read 0 ms; timeouts still use real timers).
 */
export function clockFromEnv(env: Readonly<Record<string, string | undefined>>): Clock {
  const fixed = env.TICKWORK_NOW;
  if (fixed === undefined || fixed === '') return systemClock;
  const instant = Date.parse(fixed);
  if (Number.isNaN(instant)) throw new CliUsageError(`TICKWORK_NOW: "${fixed}" is not an ISO instant (e.g. 2026-01-05T10:00:00Z)`);
  return { now: () => new Date(instant) };
}
