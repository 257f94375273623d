import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onTestFinished } from 'vitest';

/** apps/example. */
export const APP_DIR = resolve(import.meta.dirname, '..');

/** A temporary directory removed by `dispose`. */
export function tempDir(prefix: string): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Fails with a useful message when the example has not been built (turbo builds before testing). */
export function requireBuilt(): void {
  if (!existsSync(join(APP_DIR, 'dist', 'index.js'))) {
    throw new Error('apps/example/dist is missing: run `npx tsc -p tsconfig.build.json` in apps/example (turbo does it before tests)');
  }
}

/** A spawned process with its output collected. */
export interface Spawned {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process ended. */
  exited: Promise<number | string>;
  /** Resolves once `pattern` appears in stdout + stderr, rejects after `timeoutMs` or on exit. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

/** Spawns `command` in apps/example with `env` added to the environment. */
export function spawnInApp(command: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(command, args, { cwd: APP_DIR, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | string>((resolveExit) => child.on('exit', (code, signal) => resolveExit(code ?? signal ?? -1)));
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const match = text.match(pattern);
          if (match) {
            done();
            resolveMatch(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output so far:\n${text}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then(() => {
          if (listeners.has(check)) {
            done();
            reject(new Error(`process exited before printing ${pattern}; output:\n${text}`));
          }
        });
        check();
      });
    },
  };
}

/** Output and exit status of a command that ran to its end. */
export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` in apps/example with `env` added to the environment, to its end — spawnSync
 * without blocking and without a kill deadline of its own (one fails a slow but correct run on
 * a busy machine): the test's timeout is the safety net, and the process is killed when the
 * test ends while it still runs.
 */
export function runInApp(command: string, args: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(command, args, { cwd: APP_DIR, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolveRun, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolveRun({ status, signal, stdout, stderr }));
  });
}

/** Polls `probe` every 200 ms until it returns a value other than undefined, for at most `timeoutMs`. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** JSON request helper: returns status and parsed body. */
export async function http(
  url: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
