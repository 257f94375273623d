import { describe, it } from 'vitest';
import { runRuntimeScheduleScenario } from './runtime-stores.js';
import { sqliteKit } from './store-kits.js';

describe('runtime schedules on SQLite (no push: polling)', () => {
  it('are picked up, changed, disabled and removed while two daemons run, each slot once with its payload', async () => {
    await runRuntimeScheduleScenario(sqliteKit());
  }, 150_000);
});
