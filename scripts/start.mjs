#!/usr/bin/env node
// `npm start`: install (frozen lockfile), build, and run the example application on the
// embedded default store (SQLite under apps/example/data/, no server needed).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// turbo finds pnpm (the packageManager) on PATH: the root devDependency puts it in .bin.
const env = {
  ...process.env,
  PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
};

function run(command, args, cwd = root) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run('npx', ['-y', 'pnpm@10.34.8', 'install', '--frozen-lockfile']);
// Only what the example needs (the chaos and pack suites are not), emitted without type
// checking (`tsc --noCheck`): starting needs the JavaScript, and `npm test` type-checks every
// package. turbo hashes the extra argument, so a later `npm test` builds checked, not from this.
run(join(root, 'node_modules', '.bin', 'turbo'), [
  'run',
  'build',
  '--filter=@tickwork/example...',
  '--output-logs=errors-only',
  '--',
  '--noCheck',
]);

const example = join(root, 'apps', 'example');
if (!existsSync(join(example, 'package.json'))) {
  console.log('\nTickwork is built. The example application (apps/example) is not in this checkout yet;');
  console.log('see README.md for defining a job and running `tickwork run` from cron.');
  process.exit(0);
}
run('node', ['scripts/start.mjs'], example);
