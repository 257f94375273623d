import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { defineJob, every, type Job, type JobOptions, type RunContext, type ScheduleInput } from '@tickwork/core';
import { InvalidAttendanceInputError } from './errors.js';
import { checkBatchSize, DEFAULT_BATCH_SIZE, markAbsent, type MarkAbsentCounts } from './mark-absent.js';

/** The mark-absent job's default code. */
export const MARK_ABSENT_CODE = 'attendance.mark-absent';

/** Options of {@link markAbsentJob}; every other Tickwork job option passes through. */
export interface MarkAbsentJobOptions extends JobOptions {
  /** The host's MikroORM instance (forked per run), or a function giving an EntityManager. */
  orm: MikroORM | (() => EntityManager | Promise<EntityManager>);
  /** Default `every('5m')`. */
  schedule?: ScheduleInput;
  /** Events closed per transaction. Default 500. */
  batchSize?: number;
  /** Default `attendance.mark-absent`. */
  code?: string;
}

/** The line written to the run log. */
export function formatCounts(counts: MarkAbsentCounts): string {
  return `events closed: ${counts.eventsClosed}, rows updated: ${counts.rowsUpdated}, rows inserted: ${counts.rowsInserted}`;
}

/**
 * The Tickwork job marking absentees, every five minutes by default. Its "now" is the run's
 * slot, not the wall clock, so a late or repeated run of a slot closes exactly the same events.
 */
export function markAbsentJob(options: MarkAbsentJobOptions): Job {
  if (options === null || typeof options !== 'object') {
    throw new InvalidAttendanceInputError('markAbsentJob: expected an options object with `orm`');
  }
  const { orm, schedule, batchSize: batchOption, code, ...jobOptions } = options;
  const what = `markAbsentJob (job "${code ?? MARK_ABSENT_CODE}")`;
  if (orm === null || (typeof orm !== 'object' && typeof orm !== 'function')) {
    throw new InvalidAttendanceInputError(`${what}: orm must be a MikroORM instance or a function giving an EntityManager`);
  }
  const batchSize = checkBatchSize(batchOption ?? DEFAULT_BATCH_SIZE, `${what}: batchSize`);
  return defineJob({
    description: 'Marks members who did not check in by start + failMinutes as ABSENT and closes the events',
    ...jobOptions,
    code: code ?? MARK_ABSENT_CODE,
    schedule: schedule ?? every('5m'),
    run: async (ctx: RunContext) => {
      const counts = await markAbsent(orm, { now: ctx.slot, batchSize, signal: ctx.signal });
      ctx.report(formatCounts(counts));
      ctx.logger.info({ ...counts, slot: ctx.slot.toISOString() }, 'attendance marked');
      return counts;
    },
  });
}
