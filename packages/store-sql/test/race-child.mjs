// A racing claimant for claim-race-processes.test.ts: opens its own store (from dist),
// says "ready", waits for "go" on stdin, claims every slot in a shuffled order in
// batches, and prints what it won. Mode `limited`: the slots belong to 10 jobs limited to
// `maxRuns: 5` each (overlap allowAll), so most claims end.
import { createSqlStore } from '../dist/index.js';

const [optionsJson, runnerId, slotCountText, seedText, mode = 'plain'] = process.argv.slice(2);
const store = createSqlStore(JSON.parse(optionsJson));
const slotCount = Number(slotCountText);
const slotAt = new Date(Date.UTC(2030, 0, 7));

let state = Number(seedText) + 1;
const order = Array.from({ length: slotCount }, (_, i) => i);
for (let i = order.length - 1; i > 0; i -= 1) {
  state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
  const j = state % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}

await store.ping();
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));

const claimOf = (i) =>
  mode === 'limited'
    ? {
        code: `job-${i % 10}`,
        key: '',
        slotAt: new Date(slotAt.getTime() + Math.floor(i / 10) * 60_000),
        attempt: 1,
        trigger: 'schedule',
        overlap: 'allowAll',
        leaseMs: 60_000,
        maxRuns: 5,
      }
    : { code: `job-${i}`, key: '', slotAt, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 };
const now = new Date(slotAt.getTime() + slotCount * 60_000);
const claimed = [];
let taken = 0;
let ended = 0;
for (let start = 0; start < order.length; start += 50) {
  const batch = order.slice(start, start + 50).map(claimOf);
  const outcomes = await store.claimSlots(batch, { runnerId, now });
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'claimed') claimed.push(`${batch[i].code}@${batch[i].slotAt.toISOString()}`);
    else if (outcome.status === 'taken') taken += 1;
    else if (outcome.status === 'ended' && mode === 'limited') ended += 1;
    else throw new Error(`unexpected outcome ${outcome.status} for ${batch[i].code}`);
  });
}
await store.close();
process.stdout.write(`${JSON.stringify({ claimed, taken, ended })}\n`);
