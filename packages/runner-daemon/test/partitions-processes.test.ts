import { describe, it } from 'vitest';
import { runPartitionScenario } from './partitions-processes.js';
import { postgresKit, redisKit, sqliteKit } from './store-kits.js';

describe.each([
  { name: 'postgresql', kit: postgresKit },
  { name: 'redis', kit: redisKit },
  { name: 'sqlite', kit: sqliteKit },
])('three partitioned daemon processes on $name', ({ kit }) => {
  it('each load only their share, every slot runs once, and a SIGKILLed daemon’s partitions are taken over', async () => {
    await runPartitionScenario(kit());
  }, 240_000);
});
