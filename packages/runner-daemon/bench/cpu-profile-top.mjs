// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, and the share of idle,
// GC and program time. Usage: node bench/cpu-profile-top.mjs FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (positionals.length !== 1) {
  console.error('usage: node bench/cpu-profile-top.mjs FILE.cpuprofile [--top 25]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
// Each sample is charged the interval up to the next one (the last one the mean interval).
const selfUs = new Map();
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) {
  const us = timeDeltas[i + 1] ?? (profile.endTime - profile.startTime) / samples.length;
  selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + us);
}
const byFunction = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const { callFrame } = nodes.get(id);
  const file = callFrame.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/packages\//, '')
    .replace(/^.*\/node_modules\/\.pnpm\/([^/]+)\/.*\//, '$1/');
  const name = `${callFrame.functionName || '(anonymous)'} ${file ? `${file}:${callFrame.lineNumber + 1}` : ''}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  total += us;
}
const idle = byFunction.get('(idle)') ?? 0;
const busy = total - idle;
console.log(`profile ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(2)} s (idle excluded below)`);
const top = [...byFunction].filter(([name]) => name !== '(idle)').sort((a, b) => b[1] - a[1]);
for (const [name, us] of top.slice(0, Number(values.top)))
  console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`);
