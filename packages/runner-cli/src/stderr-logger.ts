import type { Logger } from '@tickwork/core';
import type { OutputStream } from './io.js';

/**
 * The CLI's logger when the config brings none: warnings and errors to stderr (one line
 * each, fields as JSON), the rest dropped — stdout stays the command's own output.
 */
export function createStderrLogger(stream: OutputStream, bindings: object = {}): Logger {
  const line = (level: string) => (obj: object, msg?: string) => {
    const fields = { ...bindings, ...obj };
    const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    stream.write(`[tickwork] ${level}: ${msg ?? ''}${extra}\n`);
  };
  return {
    debug() {},
    info() {},
    warn: line('warn'),
    error: line('error'),
    child: (more) => createStderrLogger(stream, { ...bindings, ...more }),
  };
}
