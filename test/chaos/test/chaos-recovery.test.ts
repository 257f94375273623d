import { describe, expect, it } from 'vitest';
import { killOneDaemon, runScenario } from '../src/chaos-harness.js';
import { stopAndStart, withChaosPostgres } from '../src/private-postgres.js';
import { expectRecovered, expectSound, SCENARIO_TIMEOUT } from './judge.js';

/**
 * The chaos scenarios that recover from a long disruption (see chaos.test.ts): a private
 * PostgreSQL stopped for 8 s, and a SIGKILLed daemon whose 60 s leases only runner presence
 * releases early. A file of their own, so they run beside the others.
 */

describe('chaos: exactly once with real runner processes', () => {
  it(
    '7) a private PostgreSQL stopped (pg_ctl stop -m fast) for 8 s and started again, jobs backfilling (missedRunPolicy all): no duplicates, every slot of the run starts, the outage slots once it answers',
    async () => {
      // `all`: the policy says every slot due during the outage runs once the store answers, so each is
      // judged by the ledger (7b below: `latest`, whose coalesced slots each have a logged reason).
      const result = await withChaosPostgres((server) =>
        runScenario({
          store: 'pg',
          storeUrl: server.url,
          daemons: 4,
          cliLoop: false,
          jobs: 12,
          jobMs: 100,
          seconds: 30,
          missedRunPolicy: { all: { within: '1m' } },
          disrupt: stopAndStart(server, 8_000, 5_000),
        }),
      );
      expectSound(result);
      expect(result.warnings, 'no process warning').toBe(0);
      expect(result.misses, JSON.stringify(result.missed)).toBe(0);
      const recovered = expectRecovered(result);
      expect(recovered.skipped, 'no overlap skips citing finished runs').toBe(0);
    },
    SCENARIO_TIMEOUT * 2,
  );

  it(
    '7b) the same stop with the default missed-run policy latest: no duplicates, every slot not run has a logged reason (a range per stretch, exact counts), every slot from 5 s after it answers runs (at least 10 s of them however long the restart took)',
    async () => {
      const result = await withChaosPostgres((server) =>
        runScenario({
          store: 'pg',
          storeUrl: server.url,
          daemons: 4,
          cliLoop: false,
          jobs: 12,
          jobMs: 100,
          seconds: 30,
          disrupt: stopAndStart(server, 8_000, 5_000),
        }),
      );
      expectSound(result);
      expect(result.warnings, 'no process warning').toBe(0);
      expectRecovered(result, { coalesced: true });
      // Every missed slot is in the log: as a run (interrupted, overlap-skipped) or inside a skipped range with its reason.
      expect(result.missedBy.nothing, JSON.stringify(result.missedBy)).toBeUndefined();
      expect(result.unaccountedMisses).toBe(0);
      const outage = (result.missedBy['range store-outage'] ?? 0) + (result.missedBy['range missed-run-policy'] ?? 0);
      expect(outage, `the outage's slots were coalesced by latest: ${JSON.stringify(result.missedBy)}`).toBeGreaterThan(0);
      expect(Object.values(result.missedBy).reduce((a, b) => a + b, 0)).toBe(result.misses);
      // Ranges name exactly the slots not run: their counts match their spans and none covers a slot that started.
      expect(result.rangeCountMismatches).toBe(0);
      expect(result.rangedButStarted).toBe(0);
    },
    SCENARIO_TIMEOUT * 2,
  );

  // Runner presence (#19): with a 60 s lease, only the release of the dead runner's runs (heartbeat TTL 3 s,
  // its connection gone) lets its jobs run again before the end of the run; judged from 12 s after the kill
  // (generous on a busy machine: the full runs in docs/reliability.md measure about 3 s), the run lasting
  // at least 10 s more however late the kill came.
  for (const store of ['redis', 'pg'] as const) {
    it(
      `8b) ${store}: a SIGKILLed daemon's jobs run again long before their 60 s leases end, each slot from 12 s after the kill exactly once`,
      async () => {
        const result = await runScenario({
          store,
          daemons: 4,
          cliLoop: false,
          jobs: 12,
          jobMs: 100,
          seconds: 24,
          leaseTtl: '60s',
          disrupt: killOneDaemon(0, 12_000, { holding: true }),
        });
        expectSound(result);
        expect(result.kills).toBe(1);
        expect(result.unaccountedMisses, JSON.stringify(result.missed)).toBe(0);
        expectRecovered(result, { coalesced: true });
        // The daemon killed is one seen running a handler at the kill (looked for as long as it takes): its runs end as interrupted.
        expect(result.interrupted, 'the killed daemon held runs').toBeGreaterThan(0);
      },
      SCENARIO_TIMEOUT,
    );
  }
});
