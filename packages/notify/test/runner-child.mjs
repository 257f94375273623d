// A second runner in its own process: reads one JSON line per tick ({ "now": ISO }), runs the
// tick on its own store connection and fake clock, answers one JSON line.
import { createInterface } from 'node:readline';
import { createFakeClock } from '@tickwork/core';
import { notify } from '@tickwork/notify';
import { openStore, streakRunner } from './streak-runner.mjs';

const store = await openStore(JSON.parse(process.env.TW_STORE));
const clock = createFakeClock(0);
const runner = streakRunner({ notify, store, clock, hookUrl: process.env.TW_HOOK_URL, runnerId: 'runner-b' });
for await (const line of createInterface({ input: process.stdin })) {
  clock.set(JSON.parse(line).now);
  try {
    process.stdout.write(`${JSON.stringify({ outcomes: await runner.tick() })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
  }
}
await runner.close();
await store.close();
