import { describeThrown, InvalidArgumentError, type Store } from '@tickwork/core';
import { type ClaimOutcome, type ReapedRun } from '@tickwork/core/store';
import type { DaemonMetrics } from './metrics.js';

/** What the daemon learns from every store call, its own and executeRun's. */
export interface StoreObserver {
  /** A call answered: the store is reachable. */
  succeeded(): void;
  /** A call threw. */
  failed(operation: string, message: string): void;
}

const OPERATIONS = [
  'ping',
  'ensureStates',
  'getStates',
  'setPaused',
  'setScheduleOverride',
  'claimSlots',
  'renewLeases',
  'completeRuns',
  'reapExpired',
  'queryRuns',
  'getRun',
  'pruneRuns',
  'requestRun',
  'pendingRunRequests',
  'upsertSchedules',
  'removeSchedules',
  'getSchedules',
  'listSchedules',
  'schedulesRevision',
  'appendAudit',
  'listAudit',
  'pruneAudit',
  'addAccessToken',
  'getAccessToken',
  'listAccessTokens',
  'removeAccessToken',
] as const;

/** Operations a store may lack; wrapped only when it has them. */
const OPTIONAL_OPERATIONS = ['heartbeat', 'listRunners', 'claimMaintenance'] as const;

/**
 * Wraps a store so every call — including the lease renewals and completions core's
 * executeRun makes — feeds health and metrics, without the daemon reimplementing them.
 */
export function observeStore(store: Store, metrics: DaemonMetrics, observer: StoreObserver): Store {
  const observed: Record<string, unknown> = {
    get name() {
      return store.name;
    },
    get capabilities() {
      return store.capabilities;
    },
    close: () => store.close(),
  };
  const present = OPTIONAL_OPERATIONS.filter((operation) => typeof store[operation] === 'function');
  for (const operation of [...OPERATIONS, ...present]) {
    observed[operation] = async (...args: unknown[]) => {
      try {
        const result = await (store[operation] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
        observer.succeeded();
        if (operation === 'renewLeases') {
          for (const lease of result as unknown[]) metrics.leaseRenewals.inc({ result: lease ? 'renewed' : 'lost' });
        } else if (operation === 'reapExpired') countReaped(metrics, result as ReapedRun[]);
        else if (operation === 'claimSlots') {
          for (const outcome of result as ClaimOutcome[]) if (outcome.reaped) countReaped(metrics, outcome.reaped);
        }
        return result;
      } catch (error) {
        // A refusal (e.g. a run-now request for a removed schedule) is an answer, not an outage.
        if (error instanceof InvalidArgumentError) {
          observer.succeeded();
          throw error;
        }
        metrics.storeErrors.inc({ operation });
        observer.failed(operation, describeThrown(error).message);
        throw error;
      }
    };
  }
  if (store.subscribe) observed.subscribe = store.subscribe.bind(store);
  return observed as unknown as Store;
}

/** Runs the store handed to this daemon as interrupted (expired leases, whoever ran them) count as its finished runs. */
function countReaped(metrics: DaemonMetrics, reaped: readonly ReapedRun[]): void {
  for (const { run, state } of reaped) {
    metrics.runs.inc({ ...metrics.labels(run.code, run.key), status: 'interrupted' });
    if (state) metrics.streak(run.code, run.key, state.consecutiveFailures);
  }
}
