import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_DIR, runInApp, tempDir } from './support.js';

const TICKWORK = join(APP_DIR, 'node_modules', '.bin', 'tickwork');
const DEPLOY = join(APP_DIR, 'deploy');

function tickwork(args: string[], env: Record<string, string>) {
  return runInApp(TICKWORK, args, env);
}

function deployFiles(): { name: string; text: string }[] {
  const files: { name: string; text: string }[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else files.push({ name: `${prefix}${entry.name}`, text: readFileSync(join(dir, entry.name), 'utf8') });
    }
  };
  walk(DEPLOY, '');
  return files;
}

describe('deploy/', () => {
  it('names only tickwork subcommands that exist and the real start script', async () => {
    const help = await tickwork(['--help'], {});
    expect(help.status).toBe(0);
    const files = deployFiles();
    expect(files.map((f) => f.name).sort()).toEqual([
      'Dockerfile',
      'crontab',
      'kubernetes/cli-mode.yaml',
      'kubernetes/daemon-mode.yaml',
      'kubernetes/migrate-job.yaml',
      'tickwork-example.service',
    ]);
    const used = new Set<string>();
    for (const { text } of files) {
      for (const match of text.matchAll(
        /tickwork["']?(?:,\s*|\s+)["']?(run|migrate|list|logs|daemon|trigger|pause|resume|prune|doctor|crontab)\b/g,
      ))
        used.add(match[1] as string);
      for (const match of text.matchAll(/scripts\/start\.mjs/g)) expect(existsSync(join(APP_DIR, match[0])), match[0]).toBe(true);
    }
    expect([...used].sort()).toEqual(['migrate', 'run']);
    for (const command of used) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it("the crontab command works: `tickwork migrate` then `tickwork run` tick the example's config on a fresh database", async () => {
    const dir = tempDir('tickwork-example-cli-');
    try {
      const env = { TICKWORK_STORE: 'sqlite', TICKWORK_SQLITE_FILE: join(dir.path, 'app.sqlite') };
      const migrated = await tickwork(['migrate'], env);
      expect(migrated.stderr).toBe('');
      expect(migrated.stdout).toMatch(/applied .*tickwork_init.*attendance-0001-initial/);
      const run = await tickwork(['run', 'attendance.mark-absent', '--force', '--json'], env);
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { results: { code: string; outcome: string; message?: string; reason?: string }[] };
      expect(report.results).toMatchObject([{ code: 'attendance.mark-absent', outcome: 'succeeded' }]);
      const again = await tickwork(['migrate'], env);
      expect(again.stdout).toMatch(/already up to date/);
    } finally {
      dir.dispose();
    }
  });
});
