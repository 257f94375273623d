#!/usr/bin/env node
// `npm test`: install (frozen lockfile), build, typecheck and test every package through
// turbo, then print one plain line "N passed, N failed" totalled over all packages from
// Vitest's JSON reports — CI reads that line, not Vitest's summary. Exits non-zero on any
// failure, including a package whose tests did not report at all.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['-y', 'pnpm@10.34.8'];

// turbo finds pnpm (the packageManager) on PATH: the root devDependency puts it in .bin.
const env = {
  ...process.env,
  PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
};

function step(title, command, args, { allowFailure = false } = {}) {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) throw result.error;
  if (result.status !== 0 && !allowFailure) {
    console.error(`✖ ${title} failed (exit ${result.status})`);
    console.log('0 passed, 1 failed');
    process.exit(result.status || 1);
  }
  return result.status ?? 1;
}

function workspacePackages() {
  const dirs = [];
  for (const group of ['packages', 'apps', 'test']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const manifest = join(base, name, 'package.json');
      if (existsSync(manifest)) dirs.push({ dir: join(base, name), manifest: JSON.parse(readFileSync(manifest, 'utf8')) });
    }
  }
  return dirs;
}

const packages = workspacePackages().filter((p) => p.manifest.scripts?.test);
for (const p of packages) rmSync(join(p.dir, '.vitest'), { recursive: true, force: true });

step('install', 'npx', [...PNPM, 'install', '--frozen-lockfile']);
const turbo = join(root, 'node_modules', '.bin', 'turbo');
step('build', turbo, ['run', 'build', '--output-logs=errors-only']);
const typecheck = step('typecheck', turbo, ['run', 'typecheck', '--continue', '--output-logs=errors-only'], { allowFailure: true });
const tests = step('test', turbo, ['run', 'test', '--continue', '--concurrency=2'], { allowFailure: true });

let passed = 0;
let failed = 0;
for (const p of packages) {
  const report = join(p.dir, '.vitest', 'result.json');
  if (!existsSync(report)) {
    console.error(`✖ ${p.manifest.name}: no test report (${report}) — its test run crashed before reporting`);
    failed += 1;
    continue;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  if ((json.numTotalTests ?? 0) === 0) {
    console.error(`✖ ${p.manifest.name}: ran no test`);
    failed += 1;
    continue;
  }
  const suiteFailures = (json.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  passed += json.numPassedTests ?? 0;
  failed += (json.numFailedTests ?? 0) + suiteFailures;
  console.log(`  ${p.manifest.name}: ${json.numPassedTests} passed, ${json.numFailedTests + suiteFailures} failed`);
}
if (typecheck !== 0) {
  console.error('✖ typecheck failed');
  failed += 1;
}
if (tests !== 0 && failed === 0) {
  console.error('✖ turbo reported a failing test task');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
