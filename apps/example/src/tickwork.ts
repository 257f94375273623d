import { defineConfig, every, type StoreInput, type TickworkConfig } from '@tickwork/core';
import { markAbsentJob } from '@tickwork/attendance/job';
import type { AppDatabase } from './database.js';
import { cleanupJob } from './jobs/cleanup.js';
import { eventReminderJob } from './jobs/event-reminder.js';
import { hourlyReportJob } from './jobs/hourly-report.js';
import type { ExampleSettings } from './settings.js';

/**
 * The example's Tickwork configuration — the same object for the daemon inside the web
 * process and for the `tickwork` CLI (through tickwork.config.ts): four jobs, one store.
 */
export function createTickworkConfig(settings: ExampleSettings, database: AppDatabase, store: StoreInput): TickworkConfig {
  return defineConfig({
    timezone: settings.timezone,
    retention: '30d',
    store,
    jobs: [
      // The package default is every 5 minutes; the example checks every minute so the quick
      // start shows absentees within a minute (EXAMPLE_MARK_ABSENT_EVERY changes it).
      markAbsentJob({
        orm: async () => (await database.orm()).em.fork(),
        schedule: every(settings.markAbsentEvery),
        timeout: '2m',
        retryAfterFailure: '1m',
      }),
      cleanupJob({ database, keepDays: settings.keepEventsDays, timezone: settings.timezone }),
      hourlyReportJob({ database }),
      eventReminderJob({ database }),
    ],
  });
}
