import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBackend, createMemoryStore, defineConfig, every, type TickworkConfig } from '@tickwork/core';
import { runCli } from '../src/program.js';
import { captureIo } from './fixtures/capture.js';
import { until } from './fixtures/project.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(): { dir: string; config: TickworkConfig; backend: ReturnType<typeof createMemoryBackend> } {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-cli-dashboard-'));
  dirs.push(dir);
  const backend = createMemoryBackend();
  const config = defineConfig({
    jobs: [{ code: 'reports', schedule: every('1h'), run: () => undefined }],
    store: () => createMemoryStore({ backend }),
  });
  return { dir, config, backend };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('tickwork dashboard', () => {
  it('creates a token (hashed at rest, audited), serves the dashboard with it, and a pause made there shows in tickwork list', async () => {
    const { dir, config, backend } = setup();
    const io = captureIo({ USER: 'ops' }, dir);
    expect(await runCli(['dashboard', 'token', 'create', '--role', 'operator', '--name', 'on-call', '--json'], { io, config })).toBe(0);
    const created = JSON.parse(io.out()) as { secret: string; token: { id: string; role: string } };
    expect(created.token.role).toBe('operator');
    // Kept in the configured store, hashed: another store instance on it (a dashboard elsewhere) reads both.
    const other = createMemoryStore({ backend });
    expect(JSON.stringify(await other.listAccessTokens())).not.toContain(created.secret.slice('tw_'.length + 13));
    expect((await other.listAudit()).entries).toMatchObject([
      { action: 'token.create', actor: { name: 'cli:ops', via: 'cli' }, target: { token: created.token.id } },
    ]);

    const port = await freePort();
    const serveIo = captureIo({}, dir);
    const serving = runCli(['dashboard', '--port', String(port)], { io: serveIo, config });
    await until(() => serveIo.out().includes('/dashboard/'), 'the dashboard to listen');
    const base = serveIo.out().trim();
    const signIn = await fetch(new URL('api/session', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: created.secret }),
    });
    expect(signIn.status).toBe(200);
    const { csrf } = (await signIn.json()) as { csrf: string };
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const pause = await fetch(new URL('api/jobs/reports/pause', base), {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'quarter close' }),
    });
    expect(pause.status).toBe(200);

    const listIo = captureIo({}, dir);
    expect(await runCli(['list', '--json'], { io: listIo, config })).toBe(0);
    const list = JSON.parse(listIo.out()) as { jobs: Array<{ code: string; paused: boolean; pausedNote: string | null }> };
    expect(list.jobs.find((j) => j.code === 'reports')).toMatchObject({ paused: true, pausedNote: 'quarter close' });

    serveIo.signal('SIGTERM');
    expect(await serving).toBe(0);
    await expect(fetch(new URL('api/me', base))).rejects.toThrow();
  });

  it('refuses an unknown role with exit 2, creating nothing', async () => {
    const { dir, config } = setup();
    const io = captureIo({}, dir);
    expect(await runCli(['dashboard', 'token', 'create', '--role', 'root'], { io, config })).toBe(2);
    expect(io.errText()).toContain('--role must be one of viewer, operator, admin, got "root"');
    const listIo = captureIo({}, dir);
    expect(await runCli(['dashboard', 'token', 'list'], { io: listIo, config })).toBe(0);
    expect(listIo.out()).toContain('no tokens');
  });

  it('revokes a token by id and says so; an unknown id exits 2', async () => {
    const { dir, config } = setup();
    const io = captureIo({}, dir);
    await runCli(['dashboard', 'token', 'create', '--role', 'viewer', '--json'], { io, config });
    const { token } = JSON.parse(io.out()) as { token: { id: string } };
    const revokeIo = captureIo({}, dir);
    expect(await runCli(['dashboard', 'token', 'revoke', token.id], { io: revokeIo, config })).toBe(0);
    expect(revokeIo.out()).toBe(`revoked token ${token.id}\n`);
    const again = captureIo({}, dir);
    expect(await runCli(['dashboard', 'token', 'revoke', token.id], { io: again, config })).toBe(2);
    expect(again.errText()).toContain(`no dashboard token with id "${token.id}"`);
  });

  it('serves the dashboard beside the daemon with --dashboard, and stops both on SIGTERM', async () => {
    const { dir, config } = setup();
    const pkg = join(dir, 'node_modules', '@tickwork', 'runner-daemon');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: '@tickwork/runner-daemon', type: 'module', exports: { '.': { import: './main.mjs' } } }),
    );
    writeFileSync(
      join(pkg, 'main.mjs'),
      'export function createDaemon() { let stop; const done = new Promise((r) => (stop = r)); return { done, stop: async () => stop() }; }\n',
    );
    const port = await freePort();
    const io = captureIo({}, dir);
    const exit = runCli(['daemon', '--dashboard', String(port)], { io, config });
    await until(() => io.errText().includes('dashboard at'), 'the dashboard to listen');
    expect(io.errText()).toContain(
      `dashboard at http://127.0.0.1:${port}/dashboard/ — no tokens yet: tickwork dashboard token create --role admin`,
    );
    const anonymous = await fetch(`http://127.0.0.1:${port}/dashboard/api/jobs`);
    expect(anonymous.status).toBe(401);
    io.signal('SIGTERM');
    expect(await exit).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/dashboard/api/jobs`)).rejects.toThrow();
  });
});
