import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, createProject, type TestProject } from './fixtures/project.js';

// Bad input through the spawned bin: every case fails early, clearly, with the documented exit code.
const projects: TestProject[] = [];
const dirs: string[] = [];
const CORE = pathToFileURL(resolve(fileURLToPath(new URL('.', import.meta.url)), '../node_modules/@tickwork/core/dist/index.js')).href;

function project(jobs = `[{ code: 'a', schedule: every('1m'), run: record('a') }]`, options: { storeOptions?: string } = {}): TestProject {
  const created = createProject('sqlite', jobs, options);
  projects.push(created);
  return created;
}

function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-cli-empty-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const p of projects) p.remove();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function spawnIn(cwd: string, args: string[]) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  return { code, stdout, stderr };
}

describe('bad input (spawned bin)', () => {
  it('a missing config exits 2 and says where it looked', async () => {
    const dir = emptyDir();
    const nested = join(dir, 'a', 'b');
    mkdirSync(nested, { recursive: true });
    const result = await spawnIn(nested, ['run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'no config file found: looked for tickwork.config.ts, tickwork.config.mts, tickwork.config.js, tickwork.config.mjs in',
    );
    expect(result.stderr).toContain(`${nested}, ${join(dir, 'a')}, ${dir}`);
    const explicit = await spawnIn(dir, ['list', '--config', 'nope.mjs']);
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toContain(`--config: no file at ${join(dir, 'nope.mjs')}`);
  });

  it('a config that throws at import exits 2 and shows the cause', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'tickwork.config.mjs'), `throw new Error('DATABASE_URL is not set');\n`);
    const result = await spawnIn(dir, ['run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`config ${join(dir, 'tickwork.config.mjs')} threw while loading: DATABASE_URL is not set`);
  });

  it('a config with an invalid job exits 2 naming the job and the field', async () => {
    const dir = emptyDir();
    writeFileSync(
      join(dir, 'tickwork.config.mjs'),
      `import { every } from ${JSON.stringify(CORE)};\nexport default { store: {}, jobs: [{ code: 'a', schedule: every('1m'), run() {}, retries: 3 }] };\n`,
    );
    const result = await spawnIn(dir, ['run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('job "a": retries is not a known option');
  });

  it('an unknown flag exits 2 and shows the usage', async () => {
    const p = project();
    const result = await p.run(['run', '--forse']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown option '--forse'");
    expect(result.stderr).toContain('Usage: tickwork run [options] [codes...]');
    const bare = await p.run([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: tickwork [options] [command]');
  });

  it('an unreachable store exits 3 with host and port in the message', async () => {
    const p = project(undefined, {
      storeOptions: `{ driver: 'postgresql', clientUrl: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 2000 }`,
    });
    const result = await p.run(['run']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('127.0.0.1:1');
    expect(result.stderr).toMatch(/cannot reach PostgreSQL/);
  });

  it('a store without its tables exits 3 and says to run tickwork migrate; doctor pins it on the schema', async () => {
    const p = project();
    const result = await p.run(['run']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('run `tickwork migrate`');
    const doctor = await p.run(['doctor', '--json']);
    expect(doctor.code).toBe(1);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string }[] }).checks;
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['config', 'ok'],
      ['store', 'ok'],
      ['schema', 'fail'],
      ['clock', 'skipped'],
      ['timezones', 'ok'],
    ]);
    expect((await p.run(['migrate'])).code).toBe(0);
    expect((await p.run(['run'])).code).toBe(0);
  });

  it('loads a TypeScript config through jiti', async () => {
    const dir = emptyDir();
    writeFileSync(
      join(dir, 'tickwork.config.ts'),
      `import { defineConfig, every, createMemoryStore, type JobInput } from ${JSON.stringify(CORE)};\n` +
        `const jobs: JobInput[] = [{ code: 'typed', schedule: every('1m'), run: (): void => undefined }];\n` +
        `export default defineConfig({ jobs, store: () => createMemoryStore() });\n`,
    );
    const result = await spawnIn(dir, ['list', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).jobs.map((j: { code: string }) => j.code)).toEqual(['typed']);
  });

  it('--config names a config file outside the search path, and crontab keeps it', async () => {
    const dir = emptyDir();
    mkdirSync(join(dir, 'deploy'));
    const path = join(dir, 'deploy', 'jobs.mjs');
    writeFileSync(
      path,
      `import { defineConfig, every, createMemoryStore } from ${JSON.stringify(CORE)};\nexport default defineConfig({ jobs: [{ code: 'elsewhere', schedule: every('1m'), run() {} }], store: () => createMemoryStore() });\n`,
    );
    const result = await spawnIn(dir, ['--config', 'deploy/jobs.mjs', 'list', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).jobs.map((j: { code: string }) => j.code)).toEqual(['elsewhere']);
    const crontab = await spawnIn(dir, ['crontab', '--config', path]);
    expect(crontab.stdout).toContain(`cd ${join(dir, 'deploy')} && ${process.execPath} ${BIN} --config ${path} run --silent`);
  });

  it('crontab prints cron, systemd and Kubernetes entries with absolute paths', async () => {
    const p = project();
    const result = await p.run(['crontab']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`* * * * * cd ${p.dir} && ${process.execPath} ${BIN} run --silent`);
    expect(result.stdout).toContain(`WorkingDirectory=${p.dir}`);
    expect(result.stdout).toContain('OnCalendar=*-*-* *:*:00');
    expect(result.stdout).toContain(`command: ${JSON.stringify([process.execPath, BIN, 'run'])}`);
  });
});
