#!/usr/bin/env node
// `npm test`: install (frozen lockfile), build (turbo), then typecheck, lint (Biome) and test every package
// side by side, then print one plain line "N passed, N failed" totalled over all packages from
// Vitest's JSON reports — CI reads that line, not Vitest's summary. Exits non-zero on any
// failure, including a package whose tests did not report at all.
//
// The store conformance suites and the CLI and daemon end-to-end tests also run on Node 22 and
// 24 (engines stay >=20.19): their binaries come from the npm registry's `node` package through
// npx, which caches them, so only the first run downloads them.
//
// Most of the suite waits on child processes, servers and real-time scenarios rather than
// computing, so the test runs go TEST_JOBS at a time (default 4) from a queue, longest first:
// a long package started last would leave the machine idle at the end. Each run prints its
// output when it ends, then a table of every run's wall and CPU time closes the output.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const packages = workspacePackages().filter((p) => p.manifest.scripts?.test);
for (const p of packages) rmSync(join(p.dir, '.vitest'), { recursive: true, force: true });

step('install', 'npx', [...PNPM, 'install', '--frozen-lockfile']);
const turbo = join(root, 'node_modules', '.bin', 'turbo');
// Emit only: the typecheck below checks the same sources (and the tests) with the same options.
step('build', turbo, ['run', 'build', '--output-logs=errors-only', '--', '--noCheck']);

/** The path of Node `version`'s binary, fetched once through npx (from its cache afterwards). */
function nodeBinary(version) {
  const result = spawnSync('npx', ['-y', '--prefer-offline', `node@${version}`, '-p', 'process.execPath'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  const path = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !path || !existsSync(path)) {
    console.error(`✖ could not get Node ${version} from the registry's node package: ${result.stderr}`);
    return null;
  }
  return path;
}

/** The Node versions the conformance suites and end-to-end tests also run on (the registry's `node` package). */
const OTHER_NODES = ['22.23.3', '24.9.0'];
/** Per package, the test files run again on {@link OTHER_NODES}. */
const ON_OTHER_NODES = {
  '@tickwork/store-conformance': ['test/memory.test.ts'],
  '@tickwork/store-sql': ['test/conformance-sqlite.test.ts', 'test/conformance-postgres.test.ts', 'test/conformance-orm.test.ts'],
  '@tickwork/store-redis': ['test/conformance.test.ts'],
  '@tickwork/runner-cli': [
    'test/e2e-tick.test.ts',
    'test/e2e-bad-input.test.ts',
    'test/e2e-runtime-schedules.test.ts',
    'test/daemon.test.ts',
  ],
  '@tickwork/runner-daemon': ['test/exactly-once.test.ts', 'test/shutdown.test.ts', 'test/cluster-sqlite.test.ts'],
};
/**
 * About how many seconds each run takes in a fresh clone on the 2-core CI machine (only the
 * order matters): the queue starts the longest first. A package missing here goes first (it may be long).
 */
const SECONDS = {
  '@tickwork/runner-cli': 390,
  '@tickwork/store-sql': 350,
  '@tickwork/chaos': 250,
  '@tickwork/example': 240,
  '@tickwork/pack-test': 230,
  typecheck: 160,
  '@tickwork/runner-daemon': 130,
  '@tickwork/core': 120,
  '@tickwork/store-redis': 120,
  '@tickwork/dashboard': 100,
  '@tickwork/cluster': 150,
  '@tickwork/notify': 65,
  '@tickwork/attendance': 45,
  '@tickwork/store-conformance': 10,
  'other:@tickwork/runner-cli': 250,
  'other:@tickwork/store-sql': 140,
  'other:@tickwork/runner-daemon': 55,
  'other:@tickwork/store-conformance': 30,
  'other:@tickwork/store-redis': 30,
};
const TEST_JOBS = Number(process.env.TEST_JOBS ?? 4);
if (!Number.isInteger(TEST_JOBS) || TEST_JOBS < 1) throw new Error(`TEST_JOBS must be a whole number ≥ 1, got ${process.env.TEST_JOBS}`);

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const reports = [];
/** Each run: what it is, where and how it runs, its queue weight. */
const runs = [
  {
    label: 'typecheck',
    cwd: root,
    command: turbo,
    // --only: not the builds typecheck depends on (^build). The build step above made them, with
    // --noCheck, so turbo's hash differs and it would build every package again — rewriting dist/
    // while the tests beside it import from it (a fresh-clone run caught tsc and the bundler
    // rewriting store-redis's and core's dist/ four minutes into the test queue).
    args: ['run', 'typecheck', '--only', '--continue', '--output-logs=errors-only'],
    env,
    weight: SECONDS.typecheck,
  },
  // Formatting and the linter's recommended rules over the whole tree (biome.json); a few seconds.
  {
    label: 'lint',
    cwd: root,
    command: join(root, 'node_modules', '.bin', 'biome'),
    args: ['check', '--max-diagnostics=50', '.'],
    env,
    weight: 5,
  },
];
for (const p of packages) {
  // Each package's own `test` script (Vitest with the JSON report read below).
  runs.push({
    label: p.manifest.name,
    cwd: p.dir,
    command: 'pnpm',
    args: ['run', '--silent', 'test'],
    env,
    weight: SECONDS[p.manifest.name] ?? Number.POSITIVE_INFINITY,
  });
  reports.push({ label: p.manifest.name, report: join(p.dir, '.vitest', 'result.json') });
}
let missingNodes = 0;
console.log(`\n▶ Node ${OTHER_NODES.join(' and ')} binaries`);
for (const version of OTHER_NODES) {
  const binary = nodeBinary(version);
  if (!binary) {
    missingNodes += 1;
    continue;
  }
  const major = version.split('.')[0];
  // Child processes that tests start by name (node, npx) get the same Node.
  const nodeEnv = { ...env, PATH: `${dirname(binary)}${delimiter}${env.PATH}` };
  for (const p of packages) {
    const files = ON_OTHER_NODES[p.manifest.name];
    if (!files) continue;
    const outputFile = `.vitest/node${major}.json`;
    const label = `${p.manifest.name} on Node ${major}`;
    runs.push({
      label,
      cwd: p.dir,
      command: binary,
      env: nodeEnv,
      weight: SECONDS[`other:${p.manifest.name}`] ?? Number.POSITIVE_INFINITY,
      args: [vitest, 'run', ...files, '--reporter=default', '--reporter=json', `--outputFile.json=${outputFile}`],
    });
    reports.push({ label, report: join(p.dir, outputFile) });
  }
}

const TIME = '/usr/bin/time';
const timeDir = mkdtempSync(join(tmpdir(), 'tickwork-test-time-'));
let timeFiles = 0;
/** Runs one command, collecting its output, and resolves with its exit code, output, wall and (with GNU time) CPU seconds. */
function collect(run) {
  const started = Date.now();
  timeFiles += 1;
  const timeFile = join(timeDir, `${timeFiles}.txt`);
  const timed = existsSync(TIME);
  const [command, args] = timed ? [TIME, ['-o', timeFile, '-f', '%U %S', run.command, ...run.args]] : [run.command, run.args];
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { cwd: run.cwd, env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const done = (code, error) => {
      let cpu = null;
      if (timed && existsSync(timeFile)) {
        const [user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        if (Number.isFinite(user) && Number.isFinite(system)) cpu = user + system;
      }
      resolve({ run, code, output: error ? `${output}\n${error.message}\n` : output, wall: (Date.now() - started) / 1000, cpu });
    };
    child.on('error', (error) => done(1, error));
    child.on('close', (code) => done(code ?? 1));
  });
}

/** Every run, TEST_JOBS at a time, longest first; each prints its output when it ends. */
async function runAll() {
  const queue = [...runs].sort((a, b) => b.weight - a.weight);
  const results = [];
  const started = Date.now();
  const worker = async () => {
    for (let run = queue.shift(); run; run = queue.shift()) {
      const result = await collect(run);
      const at = Math.round((Date.now() - started) / 1000);
      console.log(
        `\n▶ ${run.label} (${result.code === 0 ? 'ok' : `exit ${result.code}`}, ${result.wall.toFixed(0)} s, ended at +${at} s)\n${result.output}`,
      );
      results.push(result);
    }
  };
  await Promise.all(Array.from({ length: TEST_JOBS }, worker));
  return results;
}

console.log(`\n▶ typecheck and test (${runs.length} runs, ${TEST_JOBS} at a time)`);
const results = await runAll();
rmSync(timeDir, { recursive: true, force: true });
const typecheck = results.find((r) => r.run.label === 'typecheck')?.code ?? 1;
const lint = results.find((r) => r.run.label === 'lint')?.code ?? 1;
const testFailures = results.filter((r) => r.run.label !== 'typecheck' && r.run.label !== 'lint' && r.code !== 0).length;

console.log('\n  run                                      wall s   cpu s');
for (const r of [...results].sort((a, b) => b.wall - a.wall)) {
  console.log(`  ${r.run.label.padEnd(40)} ${r.wall.toFixed(0).padStart(6)}  ${r.cpu === null ? '     -' : r.cpu.toFixed(0).padStart(6)}`);
}

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
  // A file that failed without a failed test (a failing beforeAll skips its tests) counts once.
  const suiteFailures = (json.testResults ?? []).filter(
    (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  passed += json.numPassedTests ?? 0;
  failed += (json.numFailedTests ?? 0) + suiteFailures;
  console.log(`  ${label}: ${json.numPassedTests} passed, ${json.numFailedTests + suiteFailures} failed`);
}
if (typecheck !== 0) {
  console.error('✖ typecheck failed');
  failed += 1;
}
if (lint !== 0) {
  console.error('✖ lint failed (biome check: run `npm run format` for formatting, see its output for the rest)');
  failed += 1;
}
if (testFailures > 0 && failed === 0) {
  console.error('✖ a test run exited non-zero with every report green');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
