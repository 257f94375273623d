import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '@tickwork/core';
import { ExampleSettingsError } from './errors.js';

/** Where Tickwork keeps its state and run log. */
export type StoreKind = 'sqlite' | 'postgres' | 'redis';

/** Where the attendance data lives (Tickwork's tables join it unless the store is Redis). */
export type DatabaseKind = 'sqlite' | 'postgres';

/** Everything the example reads from its environment, validated. */
export interface ExampleSettings {
  store: StoreKind;
  database: DatabaseKind;
  /** SQLite file (used when `database` is sqlite). */
  sqliteFile: string;
  pgUrl: string;
  /** PostgreSQL schema for both the attendance and the Tickwork tables. */
  pgSchema: string;
  redisUrl: string;
  redisPrefix: string;
  /** HTTP listen address; port 0 picks a free port. */
  host: string;
  port: number;
  /** Run the daemon inside the web process (false: cron runs `tickwork run`). */
  daemon: boolean;
  /** Seed the demo data into an empty database. */
  seed: boolean;
  /** Apply migrations at start (0 when a deploy step runs `tickwork migrate` instead). */
  migrate: boolean;
  /** The mark-absent job's interval (the package default is 5m). */
  markAbsentEvery: string;
  /** IANA zone of the nightly cleanup and the config's default. */
  timezone: string;
  /** Closed events older than this many days are deleted by the nightly cleanup. */
  keepEventsDays: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** apps/example, whatever the working directory. */
export const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The SQLite file used when TICKWORK_SQLITE_FILE is not set. */
export const DEFAULT_SQLITE_FILE = join(APP_DIR, 'data', 'tickwork.sqlite');

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the example's environment; throws ExampleSettingsError naming the variable. */
export function readSettings(env: Env = process.env): ExampleSettings {
  const store = oneOf(env, 'TICKWORK_STORE', ['sqlite', 'postgres', 'redis'] as const, 'sqlite');
  const database = oneOf(env, 'EXAMPLE_DATABASE', ['sqlite', 'postgres'] as const, store === 'postgres' ? 'postgres' : 'sqlite');
  if (store === 'postgres' && database === 'sqlite') {
    throw new ExampleSettingsError(
      'EXAMPLE_DATABASE=sqlite does not fit TICKWORK_STORE=postgres: the SQL store shares the application database',
    );
  }
  if (store === 'sqlite' && database === 'postgres') {
    throw new ExampleSettingsError('EXAMPLE_DATABASE=postgres does not fit TICKWORK_STORE=sqlite: use TICKWORK_STORE=postgres');
  }
  const sqliteFile = text(env, 'TICKWORK_SQLITE_FILE', DEFAULT_SQLITE_FILE);
  const pgSchema = text(env, 'TICKWORK_PG_SCHEMA', 'public');
  if (!/^[a-z_][a-z0-9_]{0,48}$/.test(pgSchema)) {
    throw new ExampleSettingsError(`TICKWORK_PG_SCHEMA must be a lower-case identifier, got ${JSON.stringify(pgSchema)}`);
  }
  const markAbsentEvery = text(env, 'EXAMPLE_MARK_ABSENT_EVERY', '1m');
  try {
    parseDuration(markAbsentEvery, 'EXAMPLE_MARK_ABSENT_EVERY');
  } catch (error) {
    throw new ExampleSettingsError(
      `EXAMPLE_MARK_ABSENT_EVERY must be a duration such as 1m or 30s, got ${JSON.stringify(markAbsentEvery)}`,
      { cause: error },
    );
  }
  // The machine's zone is asked of Intl only when none is set: the first DateTimeFormat loads ICU's
  // zone data (~12 ms of CPU on every crontab tick; runner-cli README "Cold start").
  const timezone = text(env, 'EXAMPLE_TIMEZONE', '') || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  return {
    store,
    database,
    sqliteFile: isAbsolute(sqliteFile) ? sqliteFile : resolve(sqliteFile),
    pgUrl: text(env, 'TICKWORK_PG_URL', 'postgres://postgres@127.0.0.1:5432/test'),
    pgSchema,
    redisUrl: text(env, 'TICKWORK_REDIS_URL', 'redis://127.0.0.1:6379'),
    redisPrefix: text(env, 'TICKWORK_REDIS_PREFIX', 'tickwork-example'),
    host: text(env, 'HOST', '127.0.0.1'),
    port: integer(env, 'PORT', 3000, 0, 65_535),
    daemon: flag(env, 'EXAMPLE_DAEMON', true),
    seed: flag(env, 'EXAMPLE_SEED', true),
    migrate: flag(env, 'EXAMPLE_MIGRATE', true),
    markAbsentEvery,
    timezone,
    keepEventsDays: integer(env, 'EXAMPLE_KEEP_EVENTS_DAYS', 180, 1, 36_500),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
  };
}

function text(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name, fallback).toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ExampleSettingsError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(env[name])}`);
  }
  return value as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name, String(fallback));
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ExampleSettingsError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name, fallback ? '1' : '0').toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ExampleSettingsError(`${name} must be 1 or 0 (true/false), got ${JSON.stringify(raw)}`);
}
