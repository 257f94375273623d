import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one daemon, in its own registry (several daemons in one process don't collide). */
export interface DaemonMetrics {
  readonly registry: Registry;
  readonly runs: Counter<'job' | 'status'>;
  readonly duration: Histogram<'job'>;
  readonly lateness: Histogram;
  readonly claimsLost: Counter;
  readonly leaseRenewals: Counter<'result'>;
  readonly storeErrors: Counter<'operation'>;
  readonly running: Gauge;
  readonly scheduled: Gauge;
  readonly loaded: Gauge<'source'>;
  readonly healthy: Gauge;
}

/** Creates the metrics of one daemon. */
export function createDaemonMetrics(runnerId: string): DaemonMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ runner: runnerId });
  const registers = [registry];
  return {
    registry,
    runs: new Counter({ name: 'tickwork_runs_total', help: 'Runs finished by this daemon, by job and status', labelNames: ['job', 'status'], registers }),
    duration: new Histogram({
      name: 'tickwork_run_duration_seconds',
      help: 'Handler duration of runs finished by this daemon',
      labelNames: ['job'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
      registers,
    }),
    lateness: new Histogram({
      name: 'tickwork_run_lateness_seconds',
      help: 'Handler start minus the slot instant (plus its jitter), scheduled runs only',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    }),
    claimsLost: new Counter({ name: 'tickwork_claims_lost_total', help: 'Slots this daemon tried to claim that another runner had claimed', registers }),
    leaseRenewals: new Counter({ name: 'tickwork_lease_renewals_total', help: 'Lease renewals, by result (renewed, lost)', labelNames: ['result'], registers }),
    storeErrors: new Counter({ name: 'tickwork_store_errors_total', help: 'Failed store calls, by operation', labelNames: ['operation'], registers }),
    running: new Gauge({ name: 'tickwork_running_runs', help: 'Handlers running (or claimed and about to start) in this daemon', registers }),
    scheduled: new Gauge({ name: 'tickwork_scheduled_schedules', help: 'Schedules with an armed next slot', registers }),
    loaded: new Gauge({
      name: 'tickwork_loaded_schedules',
      help: 'Schedules this daemon holds, by source: code (the jobs\' own) or runtime (stored in the store)',
      labelNames: ['source'],
      registers,
    }),
    healthy: new Gauge({ name: 'tickwork_daemon_healthy', help: '1 when the store is reachable and timers are armed', registers }),
  };
}
