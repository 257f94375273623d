import { expect } from 'vitest';
import type { ChaosResult } from '../src/chaos-harness.js';

/**
 * The per-scenario timeout of the chaos files (a scenario with two runs gets twice as long): a safety net, room for
 * a busy machine's slow process starts plus the harness's own nets (a late recovery, the wait for the last slots).
 */
export const SCENARIO_TIMEOUT = 240_000;

/** What every scenario must hold: no duplicate start, every start logged, no lease left behind, every daemon stopped. */
export function expectSound(result: ChaosResult): void {
  expect(result.duplicates, JSON.stringify(result)).toBe(0);
  expect(result.unlogged, 'every started run is in the store log').toBe(0);
  expect(result.leftRunning, 'no lease outlives its TTL').toBe(0);
  expect(result.stuckOnStop, 'every daemon exits within 20 s of SIGTERM').toBe(0);
}

/**
 * The slots from the disruption's `recoveredAt` on: there are some (the harness runs 10 s of them however late the
 * recovery came), none started twice, and each started — or, with `coalesced` (the default policy, `latest`), was
 * passed over by a later slot's claim and logged in a `missed-run-policy` range: what `latest` does when a runner comes
 * to a job more than a slot late, as one on a busy machine does. Exact counts: starts plus those are the slots, and
 * nothing else (no interrupted or overlap-skipped run, no unlogged miss) is allowed.
 */
export function expectRecovered(result: ChaosResult, options: { coalesced?: boolean } = {}): NonNullable<ChaosResult['recovered']> {
  const recovered = result.recovered as NonNullable<ChaosResult['recovered']>;
  expect(recovered?.slots).toBeGreaterThan(0);
  expect(recovered.duplicates).toBe(0);
  const coalesced = options.coalesced ? (recovered.missedBy['range missed-run-policy'] ?? 0) : 0;
  expect(recovered.misses, `${JSON.stringify(recovered.missedBy)} ${JSON.stringify(recovered.missed)}`).toBe(coalesced);
  expect(recovered.starts, 'each slot of the window started once, or was coalesced').toBe(recovered.slots - coalesced);
  if (coalesced > 0) console.log(`${coalesced} of ${recovered.slots} slots after the recovery coalesced by missed-run policy latest`);
  return recovered;
}
