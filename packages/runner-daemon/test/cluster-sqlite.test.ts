import { describe, it } from 'vitest';
import { runClusterScenario, SOAK_MS } from './cluster.js';
import { sqliteKit } from './store-kits.js';

describe('three daemon processes on sqlite', () => {
  it(
    'run every slot once, recover a SIGKILLed run by retry on another daemon, and honour a pause',
    async () => {
      await runClusterScenario(sqliteKit());
    },
    SOAK_MS + 180_000,
  );
});
