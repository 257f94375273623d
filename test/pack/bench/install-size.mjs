#!/usr/bin/env node
// Install size of a PostgreSQL-only app: packs @tickwork/core, store-sql and runner-cli from
// the checkout <repo> (pnpm pack), installs the tarballs with plain npm into a temp app
// (plus the extra packages named), and prints the time and `du -sh node_modules`.
//   node test/pack/bench/install-size.mjs <repo> [extra package…]
//   e.g. after:  node test/pack/bench/install-size.mjs . @mikro-orm/postgresql@6.6.16
//        before: node test/pack/bench/install-size.mjs /path/to/older/checkout
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(process.argv[2] ?? '.');
const extra = process.argv.slice(3);
const work = mkdtempSync(join(tmpdir(), 'tickwork-size-'));
const packed = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(packed);
mkdirSync(app);
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_PATH' && !k.startsWith('npm_')));
for (const name of ['core', 'store-sql', 'runner-cli']) {
  execFileSync('npx', ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', packed], {
    cwd: join(repo, 'packages', name),
    env,
    stdio: 'ignore',
  });
}
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'size-app', private: true, type: 'module' }));
const started = Date.now();
execFileSync(
  'npm',
  [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...readdirSync(packed).map((f) => join(packed, f)),
    ...extra,
  ],
  { cwd: app, env, stdio: 'inherit' },
);
const seconds = (Date.now() - started) / 1000;
const du = execFileSync('du', ['-sh', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0];
const count = execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: app, env, encoding: 'utf8' }).trim().split('\n').length - 1;
console.log(`PostgreSQL-only app from ${repo}: npm install ${seconds.toFixed(1)} s, ${count} packages, node_modules ${du}`);
rmSync(work, { recursive: true, force: true });
