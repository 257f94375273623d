import { join } from 'node:path';
import { createRegistry } from '@tickwork/core';
import { loadConfig } from '@tickwork/runner-cli';
import { describe, expect, it } from 'vitest';
import { ExampleSettingsError } from '../src/errors.js';
import { DEFAULT_SQLITE_FILE, readSettings } from '../src/settings.js';
import { APP_DIR } from './support.js';

describe('tickwork.config.ts', () => {
  it("loads through the CLI's loader with the four jobs, every schedule style, and a lazy store", async () => {
    const config = await loadConfig(join(APP_DIR, 'tickwork.config.ts'));
    expect(typeof config.store).toBe('function');
    const jobs = createRegistry(config.jobs);
    expect(jobs.codes()).toEqual(['attendance.mark-absent', 'app.cleanup-old-events', 'app.hourly-report', 'app.event-reminder']);
    expect(jobs.get('attendance.mark-absent').schedule).toEqual({ kind: 'every', everyMs: 60_000 });
    expect(jobs.get('app.cleanup-old-events').schedule).toMatchObject({ kind: 'daily', times: ['03:00'] });
    expect(jobs.get('app.hourly-report').schedule).toEqual({ kind: 'cron', expression: '0 * * * *' });
    expect(jobs.get('app.event-reminder').schedule).toBeNull();
  });
});

describe('environment settings', () => {
  it('defaults to SQLite under apps/example/data with the daemon on', () => {
    const settings = readSettings({});
    expect(settings).toMatchObject({
      store: 'sqlite',
      database: 'sqlite',
      sqliteFile: DEFAULT_SQLITE_FILE,
      port: 3000,
      daemon: true,
      seed: true,
      markAbsentEvery: '1m',
    });
    expect(DEFAULT_SQLITE_FILE).toBe(join(APP_DIR, 'data', 'tickwork.sqlite'));
  });

  it('switches to PostgreSQL or Redis by environment variables only', () => {
    expect(readSettings({ TICKWORK_STORE: 'postgres', TICKWORK_PG_URL: 'postgres://u@db:5432/app' })).toMatchObject({
      store: 'postgres',
      database: 'postgres',
      pgUrl: 'postgres://u@db:5432/app',
    });
    expect(readSettings({ TICKWORK_STORE: 'redis' })).toMatchObject({
      store: 'redis',
      database: 'sqlite',
      redisUrl: 'redis://127.0.0.1:6379',
    });
    expect(readSettings({ TICKWORK_STORE: 'redis', EXAMPLE_DATABASE: 'postgres' })).toMatchObject({ store: 'redis', database: 'postgres' });
  });

  it.each([
    [{ TICKWORK_STORE: 'mysql' }, /TICKWORK_STORE must be one of sqlite, postgres, redis, got "mysql"/],
    [{ PORT: '99999' }, /PORT must be an integer from 0 to 65535/],
    [{ EXAMPLE_MARK_ABSENT_EVERY: 'soon' }, /EXAMPLE_MARK_ABSENT_EVERY must be a duration/],
    [{ EXAMPLE_DAEMON: 'maybe' }, /EXAMPLE_DAEMON must be 1 or 0/],
    [{ TICKWORK_STORE: 'postgres', EXAMPLE_DATABASE: 'sqlite' }, /EXAMPLE_DATABASE=sqlite does not fit TICKWORK_STORE=postgres/],
    [{ TICKWORK_PG_SCHEMA: 'Bad-Name' }, /TICKWORK_PG_SCHEMA must be a lower-case identifier/],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => readSettings(env)).toThrow(ExampleSettingsError);
    expect(() => readSettings(env)).toThrow(message);
    expect(() => readSettings(env)).toThrow(/^\[tickwork\] \[example\] /);
  });
});
