// Summarises a V8 sampling heap profile (.heapprofile, e.g. from bench/launch-path.mjs --cpu-prof): the
// functions that allocated the most bytes themselves. Usage: node bench/heap-profile-top.mjs FILE.heapprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (positionals.length !== 1) {
  console.error('usage: node bench/heap-profile-top.mjs FILE.heapprofile [--top 25]');
  process.exit(2);
}
const { head } = JSON.parse(readFileSync(positionals[0], 'utf8'));
const bytes = new Map();
let total = 0;
const walk = (node) => {
  const self = node.selfSize;
  if (self > 0) {
    const { callFrame } = node;
    const file = callFrame.url
      .replace(/^file:\/\//, '')
      .replace(/^.*\/packages\//, '')
      .replace(/^.*\/node_modules\/\.pnpm\/([^/]+)\/.*\//, '$1/');
    const name = `${callFrame.functionName || '(anonymous)'} ${file ? `${file}:${callFrame.lineNumber + 1}` : ''}`.trim();
    bytes.set(name, (bytes.get(name) ?? 0) + self);
    total += self;
  }
  for (const child of node.children) walk(child);
};
walk(head);
console.log(`allocated ${(total / 1e6).toFixed(1)} MB (sampled)`);
for (const [name, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
  console.log(`${(b / 1e6).toFixed(1).padStart(8)} MB ${((100 * b) / total).toFixed(1).padStart(5)}%  ${name}`);
