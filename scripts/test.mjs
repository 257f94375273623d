#!/usr/bin/env node
// `npm test`: install (frozen lockfile), build, typecheck and test every package through
// turbo, then print one plain line "N passed, N failed" totalled over all packages from
// Vitest's JSON reports — CI reads that line, not Vitest's summary. Exits non-zero on any
// failure, including a package whose tests did not report at all.
//
// Beside that, the store conformance suites and the CLI and daemon end-to-end tests run again on
// Node 22 and 24 (engines stay >=20.19): their binaries come from the npm registry's `node`
// package through npx, which caches them, so only the first run downloads them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
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

/** The Node versions the conformance suites and end-to-end tests also run on (the registry's `node` package). */
const OTHER_NODES = ['22.23.3', '24.9.0'];
/** Per package, the test files run again on {@link OTHER_NODES}. */
const ON_OTHER_NODES = {
  '@tickwork/store-conformance': ['test/memory.test.ts'],
  '@tickwork/store-sql': ['test/conformance-sqlite.test.ts', 'test/conformance-postgres.test.ts', 'test/conformance-orm.test.ts'],
  '@tickwork/store-redis': ['test/conformance.test.ts'],
  '@tickwork/runner-cli': ['test/e2e-tick.test.ts', 'test/e2e-bad-input.test.ts', 'test/e2e-runtime-schedules.test.ts', 'test/daemon.test.ts'],
  '@tickwork/runner-daemon': ['test/exactly-once.test.ts', 'test/shutdown.test.ts', 'test/cluster-sqlite.test.ts'],
};

const packages = workspacePackages().filter((p) => p.manifest.scripts?.test);
for (const p of packages) rmSync(join(p.dir, '.vitest'), { recursive: true, force: true });

step('install', 'npx', [...PNPM, 'install', '--frozen-lockfile']);
const turbo = join(root, 'node_modules', '.bin', 'turbo');
step('build', turbo, ['run', 'build', '--output-logs=errors-only']);
const typecheck = step('typecheck', turbo, ['run', 'typecheck', '--continue', '--output-logs=errors-only'], { allowFailure: true });

/** The path of Node `version`'s binary, fetched once through npx (from its cache afterwards). */
function nodeBinary(version) {
  const result = spawnSync('npx', ['-y', '--prefer-offline', `node@${version}`, '-p', 'process.execPath'], { cwd: root, env, encoding: 'utf8' });
  const path = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !path || !existsSync(path)) {
    console.error(`✖ could not get Node ${version} from the registry's node package: ${result.stderr}`);
    return null;
  }
  return path;
}

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const reports = packages.map((p) => ({ label: p.manifest.name, report: join(p.dir, '.vitest', 'result.json') }));

/** Runs one command, collecting its output (the two Node versions run side by side; each prints when done). */
function collect(command, args, options) {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve(`${output}\n${error.message}\n`));
    child.on('close', () => resolve(output));
  });
}

/** The conformance and end-to-end files of every package on Node `version`; false when its binary could not be had. */
async function onOtherNode(version) {
  const major = version.split('.')[0];
  const binary = nodeBinary(version);
  if (!binary) return false;
  // Child processes that tests start by name (node, npx) get the same Node.
  const nodeEnv = { ...env, PATH: `${dirname(binary)}${delimiter}${env.PATH}` };
  let output = '';
  for (const p of packages) {
    const files = ON_OTHER_NODES[p.manifest.name];
    if (!files) continue;
    const outputFile = `.vitest/node${major}.json`;
    output += await collect(binary, [vitest, 'run', ...files, '--reporter=default', '--reporter=json', `--outputFile.json=${outputFile}`], { cwd: p.dir, env: nodeEnv });
    reports.push({ label: `${p.manifest.name} on Node ${major}`, report: join(p.dir, outputFile) });
  }
  console.log(`\n▶ conformance and end-to-end tests on Node ${version}\n${output}`);
  return true;
}

/** Like {@link step}, without blocking: the runs on the other Node versions go on beside it. */
function stepBeside(title, command, args) {
  console.log(`\n▶ ${title}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
    child.on('error', (error) => {
      console.error(`✖ ${title}: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** The other Node versions one after the other (each prints its output when done). */
async function onOtherNodes() {
  let missing = 0;
  for (const version of OTHER_NODES) if (!(await onOtherNode(version))) missing += 1;
  return missing;
}

// The whole suite on this Node through turbo and, beside it, the conformance and end-to-end files
// on Node 22 and 24: those mostly wait on child processes and servers, so they run alongside
// instead of after it (every test isolates its data: own schema, key prefix, directory).
const [tests, missingNodes] = await Promise.all([stepBeside('test', turbo, ['run', 'test', '--continue', '--concurrency=2']), onOtherNodes()]);

let passed = 0;
let failed = missingNodes;
for (const { label, report } of reports) {
  if (!existsSync(report)) {
    console.error(`✖ ${label}: no test report (${report}) — its test run crashed before reporting`);
    failed += 1;
    continue;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  if ((json.numTotalTests ?? 0) === 0) {
    console.error(`✖ ${label}: ran no test`);
    failed += 1;
    continue;
  }
  const suiteFailures = (json.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  passed += json.numPassedTests ?? 0;
  failed += (json.numFailedTests ?? 0) + suiteFailures;
  console.log(`  ${label}: ${json.numPassedTests} passed, ${json.numFailedTests + suiteFailures} failed`);
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
