import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore, defineConfig, every } from '@tickwork/core';
import { runCli } from '../src/program.js';
import { captureIo } from './fixtures/capture.js';
import { createProject, until, type TestProject } from './fixtures/project.js';

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const fn of cleanup) fn();
});

describe('tickwork daemon', () => {
  it("delegates to the project's @tickwork/runner-daemon and stops it on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickwork-cli-daemon-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const pkg = join(dir, 'node_modules', '@tickwork', 'runner-daemon');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: '@tickwork/runner-daemon', type: 'module', exports: { '.': { import: './main.mjs' } } }),
    );
    writeFileSync(
      join(pkg, 'main.mjs'),
      `export function createDaemon(options) {
  let stop;
  const done = new Promise((resolve) => (stop = resolve));
  globalThis.fakeDaemon = { options, stops: 0 };
  return { done, stop: async () => { globalThis.fakeDaemon.stops++; stop(); } };
}\n`,
    );
    const config = defineConfig({ jobs: [{ code: 'a', schedule: every('1m'), run: () => undefined }], store: () => createMemoryStore() });
    const io = captureIo({}, dir);
    const exit = runCli(['daemon', '--port', '9321'], { io, config });
    const fake = () => (globalThis as { fakeDaemon?: { options: { config: unknown; http?: { port: number } }; stops: number } }).fakeDaemon;
    await until(() => fake() !== undefined, 'the fake daemon to be created');
    expect(fake()?.options.config).toBe(config);
    expect(fake()?.options.http).toEqual({ port: 9321 });
    io.signal('SIGTERM');
    expect(await exit).toBe(0);
    expect(fake()?.stops).toBe(1);
    expect(io.errText()).toContain('SIGTERM: stopping the daemon');
  });

  it('runs the real daemon from the spawned bin until SIGTERM', async () => {
    const project: TestProject = createProject('sqlite', `[{ code: 'tick', schedule: cron('* * * * * *'), run: record('tick') }]`);
    cleanup.push(() => project.remove());
    const migrated = await project.run(['migrate']);
    expect(migrated.code, `tickwork migrate: ${migrated.stderr}${migrated.stdout}`).toBe(0);
    const { child, result } = project.start(['daemon']);
    await until(() => project.calls().length > 0, 'the daemon to run a slot');
    child.kill('SIGTERM');
    const done = await result;
    expect(done.code).toBe(0);
    expect(existsSync(join(project.dir, 'calls.log'))).toBe(true);
    const logs = JSON.parse((await project.run(['logs', 'tick', '--json'])).stdout) as { runs: { status: string }[] };
    expect(logs.runs.length).toBeGreaterThan(0);
    const statuses = logs.runs.map((r) => r.status);
    expect(statuses).toContain('succeeded');
    // A graceful stop leaves no run behind as `running`.
    expect(statuses, statuses.join(', ')).not.toContain('running');
  }, 300_000);
});
