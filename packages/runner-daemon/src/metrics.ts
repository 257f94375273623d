import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The labels that name a schedule in per-job metrics: `job`, plus `key` with `metricsPerKey`. */
export type ScheduleLabels = { job: string; key?: string };

/** The Prometheus metrics of one daemon, in its own registry (several daemons in one process don't collide). */
export interface DaemonMetrics {
  readonly registry: Registry;
  readonly runs: Counter<'job' | 'key' | 'status'>;
  readonly duration: Histogram<'job' | 'key'>;
  readonly lateness: Histogram<'job' | 'key'>;
  readonly skipped: Counter<'job' | 'key' | 'reason'>;
  /** The labels of one schedule's metrics: per job, or per job and key with `metricsPerKey`. */
  labels(code: string, key: string): ScheduleLabels;
  /** Records a schedule's failure streak (`consecutiveFailures` of a state this daemon received). */
  streak(code: string, key: string, consecutiveFailures: number): void;
  readonly claimsLost: Counter;
  readonly leaseRenewals: Counter<'result'>;
  readonly storeErrors: Counter<'operation'>;
  readonly running: Gauge;
  readonly scheduled: Gauge;
  readonly loaded: Gauge<'source'>;
  readonly partitions: Gauge;
  readonly healthy: Gauge;
}

/** Creates the metrics of one daemon. */
export function createDaemonMetrics(runnerId: string, options: { perKey?: boolean } = {}): DaemonMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ runner: runnerId });
  const registers = [registry];
  const perKey = options.perKey === true;
  // Per job by default: a label per runtime-schedule key would make one series per tenant (100,000 schedules).
  const schedule = perKey ? (['job', 'key'] as const) : (['job'] as const);
  // Streaks by job, then key; only failing schedules are kept, so the map stays as small as the trouble.
  const streaks = new Map<string, Map<string, number>>();
  const streak = new Gauge({
    name: 'tickwork_failure_streak',
    help: perKey
      ? 'Consecutive failures of the schedule, as of the latest of its runs this daemon recorded or reaped'
      : "Longest run of consecutive failures among the job's schedules, as of the latest of their runs this daemon recorded or reaped",
    labelNames: [...schedule],
    registers,
  });
  return {
    registry,
    runs: new Counter({
      name: 'tickwork_runs_total',
      help: 'Runs finished by this daemon, by job and status',
      labelNames: [...schedule, 'status'],
      registers,
    }),
    duration: new Histogram({
      name: 'tickwork_run_duration_seconds',
      help: 'Handler duration of runs finished by this daemon',
      labelNames: [...schedule],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
      registers,
    }),
    lateness: new Histogram({
      name: 'tickwork_run_lateness_seconds',
      help: 'Handler start minus the slot instant (plus its jitter), scheduled runs only',
      labelNames: [...schedule],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    }),
    skipped: new Counter({
      name: 'tickwork_skipped_total',
      help: 'Slots this daemon consumed without running them, by reason',
      labelNames: [...schedule, 'reason'],
      registers,
    }),
    labels: perKey ? (job, key) => ({ job, key }) : (job) => ({ job }),
    streak(code, key, consecutiveFailures) {
      if (perKey) {
        streak.set({ job: code, key }, consecutiveFailures);
        return;
      }
      let keys = streaks.get(code);
      if (consecutiveFailures > 0) {
        if (!keys) {
          keys = new Map();
          streaks.set(code, keys);
        }
        keys.set(key, consecutiveFailures);
      } else keys?.delete(key);
      let longest = 0;
      for (const failures of keys?.values() ?? []) longest = Math.max(longest, failures);
      if (keys?.size === 0) streaks.delete(code);
      streak.set({ job: code }, longest);
    },
    claimsLost: new Counter({
      name: 'tickwork_claims_lost_total',
      help: 'Slots this daemon tried to claim that another runner had claimed',
      registers,
    }),
    leaseRenewals: new Counter({
      name: 'tickwork_lease_renewals_total',
      help: 'Lease renewals, by result (renewed, lost)',
      labelNames: ['result'],
      registers,
    }),
    storeErrors: new Counter({
      name: 'tickwork_store_errors_total',
      help: 'Failed store calls, by operation',
      labelNames: ['operation'],
      registers,
    }),
    running: new Gauge({
      name: 'tickwork_running_runs',
      help: 'Handlers running (or claimed and about to start) in this daemon',
      registers,
    }),
    scheduled: new Gauge({ name: 'tickwork_scheduled_schedules', help: 'Schedules with an armed next slot', registers }),
    loaded: new Gauge({
      name: 'tickwork_loaded_schedules',
      help: "Schedules this daemon holds, by source: code (the jobs' own) or runtime (stored in the store)",
      labelNames: ['source'],
      registers,
    }),
    partitions: new Gauge({
      name: 'tickwork_partitions_held',
      help: 'Schedule partitions this daemon holds (with partitions: true)',
      registers,
    }),
    healthy: new Gauge({ name: 'tickwork_daemon_healthy', help: '1 when the store is reachable and timers are armed', registers }),
  };
}
