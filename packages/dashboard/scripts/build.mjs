// `build`: compiles the server (with declarations) and the front end, then copies the front
// end's static files (HTML, CSS) next to its compiled JavaScript. Extra arguments go to both
// tsc runs (`npm start` passes --noCheck: it only needs the emitted files; `npm test`
// type-checks).
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const cwd = fileURLToPath(new URL('..', import.meta.url));
for (const project of ['tsconfig.build.json', 'tsconfig.web.json']) {
  const result = spawnSync(process.execPath, [tsc, '-p', project, ...process.argv.slice(2)], { cwd, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
cpSync(fileURLToPath(new URL('../src/web/static', import.meta.url)), fileURLToPath(new URL('../dist/web', import.meta.url)), {
  recursive: true,
});
