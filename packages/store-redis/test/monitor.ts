import { connect, type Socket } from 'node:net';
import type { Redis } from 'ioredis';

/** One command MONITOR reported: its arguments (command name first) and its source (`lua`, or the client's address). */
export interface MonitoredCommand {
  args: string[];
  source: string;
}

/** A MONITOR connection; `stop` closes it. */
export interface Monitor {
  stop(): void;
}

/**
 * Starts MONITOR on its own socket and calls `onCommand` for each command the server reports, from the
 * moment the server answered +OK. Resolves once monitoring is on.
 *
 * Not ioredis's `monitor()`: its connection switches to monitoring mode in a promise callback after the
 * +OK, so a command line arriving in the same read as the +OK is taken for a reply and throws "Command
 * queue state error" (ioredis 6.0.0; it failed this package's tests by chance, and a loop of 300
 * `monitor()` calls beside a busy client throws it within a few).
 */
export function startMonitor(url: string, onCommand: (command: MonitoredCommand) => void): Promise<Monitor> {
  const target = new URL(url);
  const socket: Socket = connect({ host: target.hostname || '127.0.0.1', port: Number(target.port || 6379) });
  return new Promise((resolve, reject) => {
    let buffer = '';
    let okToCome = target.password ? 2 : 1;
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setEncoding('utf8');
    socket.once('error', fail);
    socket.on('connect', () => {
      const auth = target.password
        ? `AUTH ${decodeURIComponent(target.username || 'default')} ${decodeURIComponent(target.password)}\r\n`
        : '';
      socket.write(`${auth}MONITOR\r\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\r\n');
      while (end >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\r\n');
        if (line.startsWith('-')) return fail(new Error(`MONITOR was refused: ${line.slice(1)}`));
        if (okToCome > 0) {
          // AUTH's +OK (when sent), then MONITOR's: command lines follow the last one.
          if (line === '+OK' && --okToCome === 0) {
            socket.off('error', fail);
            socket.on('error', () => {});
            resolve({ stop: () => socket.destroy() });
          }
          continue;
        }
        const command = parseMonitorLine(line);
        if (command) onCommand(command);
      }
    });
  });
}

/** Parses `+1712098529.327989 [0 lua] "hget" "key" "field"`; answers null for a line of another shape. */
export function parseMonitorLine(line: string): MonitoredCommand | null {
  const open = line.indexOf('[');
  const close = line.indexOf(']', open);
  if (!line.startsWith('+') || open < 0 || close < 0) return null;
  const source = line.slice(line.indexOf(' ', open) + 1, close);
  const args: string[] = [];
  let i = close + 1;
  while (i < line.length) {
    if (line[i] !== '"') {
      i++;
      continue;
    }
    let arg = '';
    i++;
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\' && i + 1 < line.length) {
        const next = line[i + 1];
        if (next === 'x') {
          arg += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        arg += ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[next ?? ''] ?? next;
        i += 2;
        continue;
      }
      arg += line[i];
      i++;
    }
    args.push(arg);
    i++;
  }
  return { args, source };
}

/** The commands this store's client sent on keys under `prefix` while `work` ran (not those its scripts issued), seen with MONITOR. */
export async function clientCommands(admin: Redis, url: string, prefix: string, work: () => Promise<unknown>): Promise<string[][]> {
  const commands: string[][] = [];
  const marker = `${prefix}:monitor-marker`;
  let markerSeen: () => void = () => {};
  const sawMarker = new Promise<void>((resolve) => {
    markerSeen = resolve;
  });
  const monitor = await startMonitor(url, ({ args, source }) => {
    if (args[1] === marker) markerSeen();
    else if (source !== 'lua' && args.some((arg) => arg.includes(prefix))) commands.push(args);
  });
  try {
    await work();
    // MONITOR reports commands in execution order: once the marker shows up, every command of `work` has too.
    await admin.exists(marker);
    await sawMarker;
    return commands;
  } finally {
    monitor.stop();
  }
}
