import { describe, it } from 'vitest';
import { runClusterScenario, SOAK_MS } from './cluster.js';
import { postgresKit } from './store-kits.js';

describe('three daemon processes on postgresql', () => {
  it(
    'run every slot once, recover a SIGKILLed run by retry on another daemon, and honour a pause',
    async () => {
      await runClusterScenario(postgresKit());
    },
    SOAK_MS + 180_000,
  );
});
