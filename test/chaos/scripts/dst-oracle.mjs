#!/usr/bin/env node
// Full DST oracle run: core's slots vs the brute-force Luxon oracle, every schedule of
// ORACLE_CASES, every real minute of the chosen years in each zone. Prints a table.
// Usage: node test/chaos/scripts/dst-oracle.mjs [--years 10] [--from 2016] [--zones A/B,C/D]
// Build first: cd test/chaos && npx tsc -p tsconfig.build.json
import { parseArgs } from 'node:util';
import { compareZone, ORACLE_CASES, ORACLE_ZONES, transitionsBetween } from '../dist/dst-oracle.js';

const { values } = parseArgs({
  options: {
    years: { type: 'string', default: '10' },
    from: { type: 'string', default: '2016' },
    zones: { type: 'string' },
  },
});
const years = Number(values.years);
const fromYear = Number(values.from);
const zones = values.zones ? values.zones.split(',') : ORACLE_ZONES;
const from = Date.UTC(fromYear, 0, 1);
const to = Date.UTC(fromYear + years, 0, 1);

console.log(
  `DST oracle: ${zones.length} zones, ${fromYear}-01-01 → ${fromYear + years}-01-01 (${years} years), ${ORACLE_CASES.length} schedules`,
);
console.log(`schedules: ${ORACLE_CASES.map((c) => c.label).join(' | ')}`);
console.log('');
console.log('| zone | transitions | slots compared | mismatches | seconds |');
console.log('|---|---:|---:|---:|---:|');
let totalSlots = 0;
let totalMismatches = 0;
const all = [];
for (const zone of zones) {
  const started = performance.now();
  const transitions = transitionsBetween(zone, from, to).length;
  // One year per comparison keeps the oracle's slot lists small.
  let slots = 0;
  let mismatches = 0;
  for (let year = fromYear; year < fromYear + years; year++) {
    const verdict = compareZone(zone, Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1));
    slots += verdict.slots;
    mismatches += verdict.mismatches.length;
    all.push(...verdict.mismatches);
  }
  totalSlots += slots;
  totalMismatches += mismatches;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`| ${zone} | ${transitions} | ${slots.toLocaleString('en-US')} | ${mismatches} | ${seconds} |`);
}
console.log(`| **total** | | ${totalSlots.toLocaleString('en-US')} | ${totalMismatches} | |`);
for (const m of all.slice(0, 20)) console.log(`mismatch: ${m.zone} ${m.schedule} at ${m.at}: core ${m.core}, oracle ${m.oracle}`);
process.exitCode = totalMismatches === 0 ? 0 : 1;
