import { dailyAt, defineJob, type Job } from '@tickwork/core';
import type { AppDatabase } from '../database.js';

/** Code of the nightly cleanup job. */
export const CLEANUP_CODE = 'app.cleanup-old-events';

const BATCH = 500;

/** Options of {@link cleanupJob}. */
export interface CleanupJobOptions {
  database: AppDatabase;
  /** Closed events whose attendance closed more than this many days before the slot are deleted. */
  keepDays: number;
  /** IANA zone of the 03:00 local run. */
  timezone: string;
}

/**
 * Nightly at 03:00 local time (a fixed-time schedule: on a DST change it runs once, per
 * Vixie cron's rule): deletes events whose attendance closed more than `keepDays` ago, with
 * their records, in batches so no transaction holds the database for long.
 */
export function cleanupJob(options: CleanupJobOptions): Job {
  const { database, keepDays, timezone } = options;
  return defineJob({
    code: CLEANUP_CODE,
    description: `Deletes events closed more than ${keepDays} days ago, with their attendance records`,
    schedule: dailyAt('03:00', { timezone }),
    timeout: '10m',
    retryAfterFailure: '15m',
    async run(ctx) {
      const { AttendanceEventSchema, AttendanceSchema } = await import('@tickwork/attendance');
      const cutoff = new Date(ctx.slot.getTime() - keepDays * 86_400_000);
      const orm = await database.orm();
      let deleted = 0;
      for (;;) {
        ctx.signal.throwIfAborted();
        const removed = await orm.em.fork().transactional(async (em) => {
          const old = await em.find(
            AttendanceEventSchema,
            { attendanceClosedAt: { $ne: null, $lt: cutoff } },
            { fields: ['id'], limit: BATCH, orderBy: { id: 'asc' } },
          );
          if (old.length === 0) return 0;
          const ids = old.map((event) => event.id);
          await em.nativeDelete(AttendanceSchema, { event: { $in: ids } });
          return em.nativeDelete(AttendanceEventSchema, { id: { $in: ids } });
        });
        deleted += removed;
        if (removed < BATCH) break;
      }
      ctx.report(`deleted ${deleted} event(s) closed before ${cutoff.toISOString()}`);
      return deleted;
    },
  });
}
