import { describe, it } from 'vitest';
import { fleetStartingTogether, loneDaemonAndLateRunner } from './partitions-cold-start.js';
import { redisKit } from './store-kits.js';

describe('partitioned daemons starting on Redis', () => {
  it('a fleet starting together: each first lease takes only its share among the live runners, 64 of 256 each', async () => {
    await fleetStartingTogether(redisKit());
  }, 150_000);

  it('a lone daemon takes every partition after one look again; a runner that beats meanwhile is counted, and if it never leases, half wait one renewal', async () => {
    await loneDaemonAndLateRunner(redisKit());
  }, 150_000);
});
