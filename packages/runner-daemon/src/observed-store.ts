import { describeThrown, EXIT_CODES, exitCodeOf, type Store } from '@tickwork/core';
import { decorateStore, type ReapedRun } from '@tickwork/core/store';
import type { DaemonMetrics } from './metrics.js';

/** What the daemon learns from every store call, its own and executeRun's. */
export interface StoreObserver {
  /** A call answered: the store is reachable. */
  succeeded(): void;
  /** A call threw. */
  failed(operation: string, message: string): void;
}

/**
 * Wraps a store so every call — including the lease renewals and completions core's
 * executeRun makes — feeds health and metrics, without the daemon reimplementing them. Every
 * operation of the contract is observed (core's decorateStore lists them); subscribing is not a
 * store call the health follows.
 */
export function observeStore(store: Store, metrics: DaemonMetrics, observer: StoreObserver): Store {
  return decorateStore(store, {
    after(answer) {
      if (answer.operation === 'subscribe') return;
      observer.succeeded();
      if (answer.operation === 'renewLeases') {
        for (const lease of answer.result) metrics.leaseRenewals.inc({ result: lease ? 'renewed' : 'lost' });
      } else if (answer.operation === 'reapExpired') countReaped(metrics, answer.result);
      else if (answer.operation === 'claimSlots') {
        for (const outcome of answer.result) if (outcome.reaped) countReaped(metrics, outcome.reaped);
      }
    },
    error(operation, error) {
      if (operation === 'subscribe') return error;
      // A refusal (e.g. a run-now request for a removed schedule) is an answer, not an outage: bad
      // input by the exit code it carries, which holds for a store built on another copy of core.
      if (exitCodeOf(error) === EXIT_CODES.usage) {
        observer.succeeded();
        return error;
      }
      metrics.storeErrors.inc({ operation });
      observer.failed(operation, describeThrown(error).message);
      return error;
    },
  });
}

/** Runs the store handed to this daemon as interrupted (expired leases, whoever ran them) count as its finished runs. */
function countReaped(metrics: DaemonMetrics, reaped: readonly ReapedRun[]): void {
  for (const { run, state } of reaped) {
    metrics.runs.inc({ ...metrics.labels(run.code, run.key), status: 'interrupted' });
    if (state) metrics.streak(run.code, run.key, state.consecutiveFailures);
  }
}
