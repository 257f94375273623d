import { describe, it } from 'vitest';
import { runRuntimeScheduleScenario } from './runtime-stores.js';
import { redisKit } from './store-kits.js';

describe('runtime schedules on Redis (pub/sub)', () => {
  it('are picked up, changed, disabled and removed while two daemons run, each slot once with its payload', async () => {
    await runRuntimeScheduleScenario(redisKit());
  }, 150_000);
});
