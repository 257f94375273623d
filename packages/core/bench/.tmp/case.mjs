const { compileSchedule, cron, nextSlot } = await import(process.env.DIST ?? '/work/wt-maxruns/packages/core/dist/index.js');
import { Cron } from 'croner';
const expr = process.argv[2] ?? '0 9 ? * TUE#2';
const zone = process.argv[3] ?? 'Europe/Paris';
const STARTS = [];
let seed = 42;
for (let i = 0; i < 2000; i++) { seed = (seed * 1103515245 + 12345) % 2 ** 31; STARTS.push(new Date(Date.UTC(2026, 0, 1) + (seed % (4 * 365 * 86400)) * 1000)); }
const s = compileSchedule(cron(expr), { timezone: zone });
const cpu = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
function measure(next, ms = 400) { for (let i = 0; i < 20000; i++) next(STARTS[i % 2000]); let best = 0; for (let r = 0; r < 3; r++) { let calls = 0; const b = cpu(); let e = 0; while (e < ms) { for (let i = 0; i < 1000; i++) next(STARTS[(calls + i) % 2000]); calls += 1000; e = cpu() - b; } best = Math.max(best, calls / (e / 1000)); } return Math.round(best); }
const ours = measure((d) => nextSlot(s, d));
const job = new Cron(expr, { timezone: zone });
const theirs = process.env.NOCRONER ? 1 : measure((d) => job.nextRun(d));
console.log(expr, zone, ours, theirs, (ours / theirs).toFixed(0) + 'x');
