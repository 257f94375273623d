import { describe } from 'vitest';
import { useStoreHarness, type ConformanceOptions, type StoreFixtureFactory } from './fixture.js';
import { describeAccess } from './suites/access.js';
import { describeArgumentChecks } from './suites/argument-checks.js';
import { describeChanges } from './suites/changes.js';
import { describeClaimRaces } from './suites/claim-races.js';
import { describeClaims } from './suites/claims.js';
import { describeCompletion } from './suites/completion.js';
import { describeDeadMan } from './suites/dead-man.js';
import { describeExactlyOnce } from './suites/exactly-once.js';
import { describeJobState } from './suites/job-state.js';
import { describeLeases } from './suites/leases.js';
import { describeLimitedRuns } from './suites/limited-runs.js';
import { describeMaintenance } from './suites/maintenance.js';
import { describeNotRun } from './suites/not-run.js';
import { describePartitions } from './suites/partitions.js';
import { describeOverlapPolicies } from './suites/overlap-policies.js';
import { describeRunLog } from './suites/run-log.js';
import { describeRunRequests } from './suites/run-requests.js';
import { describeRunners } from './suites/runners.js';
import { describeSchedules } from './suites/schedules.js';
import { describeSkippedSlots } from './suites/skipped-slots.js';

/**
 * Declares the whole Store conformance suite for one store. Every test gets a fresh
 * fixture from `makeFixture`, opens as many instances on it as it needs, and closes them
 * and cleans up after itself, so tests never depend on each other.
 */
export function describeStoreConformance(name: string, makeFixture: StoreFixtureFactory, options: ConformanceOptions = {}): void {
  describe(`store conformance: ${name}`, () => {
    const harness = useStoreHarness(makeFixture, options);
    describeJobState(harness);
    describeClaims(harness);
    describeClaimRaces(harness);
    describeLeases(harness);
    describeCompletion(harness);
    describeNotRun(harness);
    describeDeadMan(harness);
    describeOverlapPolicies(harness);
    describeExactlyOnce(harness);
    describeLimitedRuns(harness);
    describeSkippedSlots(harness);
    describeRunLog(harness);
    describeRunRequests(harness);
    describeChanges(harness);
    describeSchedules(harness);
    describeRunners(harness);
    describeAccess(harness);
    describeMaintenance(harness);
    describePartitions(harness);
    describeArgumentChecks(harness);
  });
}
