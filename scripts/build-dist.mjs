// A package's build: `tsc -p tsconfig.build.json` (the options given to this script, such as
// `--noCheck` from `npm test`'s `turbo run build -- --noCheck`, go to tsc), then each entry of the
// package's `exports` map (and the extra entries named here, e.g. dist/bin.js) is rewritten as one ES
// module, with the code entries share in `dist/chunk-<hash>.js` — so an entry and its siblings still
// share every class and symbol. Why: `tickwork run` is started every minute, and Node's ESM loader
// pays for each file it resolves, reads and links (about 1 ms of CPU per file on a 2-core machine,
// before any code runs); core alone is ~45 files. Imports of other packages and of node: builtins
// stay imports (they are resolved as before), and a dynamic `import('./x.js')` stays lazy (it becomes
// a chunk of its own). tsc's other files stay in dist (declarations, and nothing imports the rest:
// the exports map only names the entries).
// Usage (from a package): node ../../scripts/build-dist.mjs [dist/extra-entry.js …] [tsc options …]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const cwd = process.cwd();
const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
const args = process.argv.slice(2);
const tsc = createRequire(join(cwd, 'package.json')).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...args.filter((arg) => arg.startsWith('-'))], {
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const entries = new Set(args.filter((arg) => !arg.startsWith('-')).map((file) => file.replace(/^\.\//, '')));
for (const target of Object.values(pkg.exports ?? {})) {
  const file = typeof target === 'string' ? target : target?.import;
  if (typeof file === 'string' && file.startsWith('./dist/') && file.endsWith('.js')) entries.add(file.slice(2));
}
const input = Object.fromEntries([...entries].map((file) => [relative('dist', file).replace(/\.js$/, ''), join(cwd, file)]));

// A checkout whose node_modules predate the rolldown devDependency (a worktree rebased without
// `pnpm install`) still builds: tsc's files are complete and correct, only not bundled.
const rolldown = await import('rolldown').then(
  (module) => module.rolldown,
  () => null,
);
if (rolldown === null) {
  console.warn(`${pkg.name}: rolldown is not installed (run pnpm install): dist/ left unbundled, a slower cold start`);
  process.exit(0);
}
const bundle = await rolldown({
  input,
  platform: 'node',
  // Only this package's own files are inlined: dependencies, peers and builtins resolve at run time as before.
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  treeshake: true,
  logLevel: 'warn',
});
const { output } = await bundle.generate({ format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'chunk-[hash].js' });
await bundle.close();
for (const name of readdirSync(join(cwd, 'dist'))) {
  if (/^chunk-[\w-]+\.js$/.test(name)) rmSync(join(cwd, 'dist', name));
}
for (const file of output) {
  if (file.type !== 'chunk') continue;
  const target = join(cwd, 'dist', file.fileName);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.code);
}
console.log(`bundled ${Object.keys(input).length} entries into ${output.length} files`);
