#!/usr/bin/env node
// Time from `npm start` to the printed URL on a fresh clone: clones <repo> at <ref> into a
// private (0700) temp directory, runs `npm start` there with PORT=0, and prints the seconds
// until the "HTTP API http://…" line, then the size of the clone's node_modules.
//   node test/pack/bench/fresh-start.mjs [repo=.] [ref=HEAD]
// Set npm_config_side_effects_cache=false to make pnpm rebuild native modules instead of
// reusing builds cached in its store (what a machine that never built them does).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(process.argv[2] ?? '.');
const ref = process.argv[3] ?? 'HEAD';
const dir = mkdtempSync(join(tmpdir(), 'tickwork-fresh-'));
const clone = join(dir, 'tickwork');
const git = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', repo, clone], { stdio: 'inherit' });
if (git.status !== 0) process.exit(1);
spawnSync('git', ['-C', clone, 'checkout', '--quiet', ref], { stdio: 'inherit' });

const started = process.hrtime.bigint();
const child = spawn('npm', ['start'], {
  cwd: clone,
  env: { ...process.env, PORT: '0' },
  detached: true,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
const seconds = await new Promise((done, fail) => {
  const timer = setTimeout(() => fail(new Error(`no URL after 600 s; output:\n${out}`)), 600_000);
  const read = (chunk) => {
    out += chunk;
    process.stdout.write(chunk);
    if (/HTTP API\s+http:\/\/\S+/.test(out)) {
      clearTimeout(timer);
      done(Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  child.on('exit', (code) => fail(new Error(`npm start exited (${code}) before printing its URL; output:\n${out}`)));
});
child.removeAllListeners('exit');
process.kill(-child.pid, 'SIGTERM');
await new Promise((r) => child.on('exit', r));
const du = spawnSync('du', ['-sh', join(clone, 'node_modules')], { encoding: 'utf8' }).stdout.split('\t')[0];
console.log(`\nfresh clone of ${ref}: npm start printed its URL after ${seconds.toFixed(1)} s; node_modules ${du}`);
rmSync(dir, { recursive: true, force: true });
