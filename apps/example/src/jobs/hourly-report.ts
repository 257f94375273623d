import { cron, defineJob, type Job } from '@tickwork/core';
import type { AttendanceStatus } from '@tickwork/attendance';
import type { AppDatabase } from '../database.js';

/** Code of the hourly attendance report. */
export const HOURLY_REPORT_CODE = 'app.hourly-report';

/** The figures of one report. */
export interface HourlyReport {
  /** Events whose attendance closed in the hour before the slot. */
  events: number;
  byStatus: Record<AttendanceStatus, number>;
}

/**
 * At minute 0 of every hour (cron; the hour field is `*`, so it keeps its real cadence through
 * DST): counts attendance of the events closed during the previous hour and stores the line in
 * the run log. A real app would e-mail or post it; the log is where you see it here.
 */
export function hourlyReportJob(options: { database: AppDatabase }): Job {
  const { database } = options;
  return defineJob({
    code: HOURLY_REPORT_CODE,
    description: 'Attendance of the events closed in the previous hour, written to the run log',
    schedule: cron('0 * * * *'),
    timeout: '5m',
    // A report for an hour nobody saw is worth little; after downtime send only the latest.
    missedRunPolicy: 'latest',
    async run(ctx) {
      const report = await buildHourlyReport(database, ctx.slot);
      const { PRESENT, LATE, ABSENT, UNCHECKED } = report.byStatus;
      ctx.report(
        `${report.events} event(s) closed in the hour to ${ctx.slot.toISOString()}: ${PRESENT} present, ${LATE} late, ${ABSENT} absent, ${UNCHECKED} unchecked`,
      );
      return report;
    },
  });
}

/** The attendance of events closed in `[until - 1h, until)`. */
export async function buildHourlyReport(database: AppDatabase, until: Date): Promise<HourlyReport> {
  const { AttendanceEventSchema, AttendanceSchema } = await import('@tickwork/attendance');
  const em = (await database.orm()).em.fork();
  const since = new Date(until.getTime() - 3_600_000);
  const events = await em.find(AttendanceEventSchema, { attendanceClosedAt: { $gte: since, $lt: until } }, { fields: ['id'] });
  const byStatus: Record<AttendanceStatus, number> = { UNCHECKED: 0, PRESENT: 0, LATE: 0, ABSENT: 0 };
  if (events.length > 0) {
    const records = await em.find(AttendanceSchema, { event: { $in: events.map((e) => e.id) } }, { fields: ['status'] });
    for (const record of records) byStatus[record.status] += 1;
  }
  return { events: events.length, byStatus };
}
