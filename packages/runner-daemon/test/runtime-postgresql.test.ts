import { describe, it } from 'vitest';
import { runRuntimeScheduleScenario } from './runtime-stores.js';
import { postgresKit } from './store-kits.js';

describe('runtime schedules on PostgreSQL (LISTEN/NOTIFY)', () => {
  it('are picked up, changed, disabled and removed while two daemons run, each slot once with its payload', async () => {
    await runRuntimeScheduleScenario(postgresKit());
  }, 150_000);
});
