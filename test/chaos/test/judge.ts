import { expect } from 'vitest';
import type { ChaosResult } from '../src/chaos-harness.js';

/** The per-scenario timeout of the chaos files (a scenario with two runs gets twice as long). */
export const SCENARIO_TIMEOUT = 90_000;

/** What every scenario must hold: no duplicate start, every start logged, no lease left behind, every daemon stopped. */
export function expectSound(result: ChaosResult): void {
  expect(result.duplicates, JSON.stringify(result)).toBe(0);
  expect(result.unlogged, 'every started run is in the store log').toBe(0);
  expect(result.leftRunning, 'no lease outlives its TTL').toBe(0);
  expect(result.stuckOnStop, 'every daemon exits within 20 s of SIGTERM').toBe(0);
}

/** The slots from the disruption's `recoveredAt` on: there are some, and each started exactly once. */
export function expectRecovered(result: ChaosResult): NonNullable<ChaosResult['recovered']> {
  const recovered = result.recovered;
  expect(recovered?.slots).toBeGreaterThan(0);
  expect(recovered?.misses, JSON.stringify(recovered?.missed)).toBe(0);
  expect(recovered?.duplicates).toBe(0);
  return recovered as NonNullable<ChaosResult['recovered']>;
}
