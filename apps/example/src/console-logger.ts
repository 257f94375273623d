import type { Logger } from '@tickwork/core';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A log level of {@link createConsoleLogger}. */
export type LogLevel = (typeof LEVELS)[number];

/**
 * One readable line per event (`12:00:01 info  daemon started schedules=3`) for a terminal;
 * a production host would pass pino instead — any object with these methods fits core's Logger.
 */
export function createConsoleLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const threshold = LEVELS.indexOf(level);
  const make = (bindings: object): Logger => {
    const emit = (at: LogLevel) => (obj: object, msg?: string) => {
      if (LEVELS.indexOf(at) < threshold) return;
      const fields = Object.entries({ ...bindings, ...obj })
        .filter(([, value]) => value !== undefined && value !== '')
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      const time = new Date().toISOString().slice(11, 19);
      write(`${time} ${at.padEnd(5)} ${msg ?? ''}${fields ? ` ${fields}` : ''}\n`);
    };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}
