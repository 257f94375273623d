import {
  parseDuration,
  type DstPolicy,
  type MissedRunPolicy,
  type OverlapPolicy,
  type ScheduleDefinition,
  type ScheduleSpec,
} from '@tickwork/core';
import { CliUsageError } from './errors.js';

/** Flags of `tickwork schedule set` (commander's names). */
export interface ScheduleSetFlags {
  cron?: string;
  every?: string;
  at?: string;
  daily?: string;
  tz?: string;
  payload?: string;
  disabled?: boolean;
  startAt?: string;
  expiresAt?: string;
  description?: string;
  timeout?: string;
  retryAfterFailure?: string;
  jitter?: string;
  leaseTtl?: string;
  allowParallelRuns?: boolean;
  overlapPolicy?: string;
  missedRunPolicy?: string;
  dst?: string;
  maxRuns?: string;
  json?: boolean;
}

const SCHEDULE_FLAGS = ['cron', 'every', 'at', 'daily'] as const;

// An instant must say its offset: "2026-01-05T10:00" would mean whatever zone the runner's machine is in.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Turns the flags of `schedule set` into core's definition. Checks only what the command line
 * adds (one schedule flag, JSON, instants with an offset, `--tz` where a zone matters);
 * core's `normaliseSchedule` checks the rest (key, cron, zone, payload size, durations).
 */
export function definitionFromFlags(code: string, key: string, flags: ScheduleSetFlags): ScheduleDefinition {
  const what = (flag: string) => `job "${code}" schedule "${key}": ${flag}`;
  const given = SCHEDULE_FLAGS.filter((flag) => flags[flag] !== undefined);
  if (given.length !== 1) {
    const list = SCHEDULE_FLAGS.map((flag) => `--${flag}`).join(', ');
    throw new CliUsageError(
      what(given.length === 0 ? `give one of ${list}` : `give exactly one of ${list}, got ${given.map((flag) => `--${flag}`).join(', ')}`),
    );
  }
  const definition: ScheduleDefinition = { key, schedule: scheduleOf(given[0] as (typeof SCHEDULE_FLAGS)[number], flags, what) };
  if (flags.tz !== undefined) {
    if (flags.cron === undefined && flags.daily === undefined) {
      throw new CliUsageError(`${what('--tz')}: only --cron and --daily follow a timezone; --every and --at are absolute time`);
    }
    definition.timezone = flags.tz;
  }
  if (flags.payload !== undefined) definition.payload = parseJson(flags.payload, what('--payload'));
  if (flags.disabled) definition.enabled = false;
  if (flags.startAt !== undefined) definition.startAt = instant(flags.startAt, what('--start-at'));
  if (flags.expiresAt !== undefined) definition.expiresAt = instant(flags.expiresAt, what('--expires-at'));
  if (flags.description !== undefined) definition.description = flags.description;
  if (flags.timeout !== undefined) definition.timeout = flags.timeout;
  if (flags.retryAfterFailure !== undefined) definition.retryAfterFailure = flags.retryAfterFailure;
  if (flags.jitter !== undefined) definition.jitter = flags.jitter;
  if (flags.leaseTtl !== undefined) definition.leaseTtl = flags.leaseTtl;
  if (flags.allowParallelRuns) definition.allowParallelRuns = true;
  // Checked by core's normaliseSchedule (unknown policy, or one contradicting --allow-parallel-runs).
  if (flags.overlapPolicy !== undefined) definition.overlapPolicy = flags.overlapPolicy as OverlapPolicy;
  if (flags.missedRunPolicy !== undefined) definition.missedRunPolicy = missedRunPolicy(flags.missedRunPolicy, what('--missed-run-policy'));
  if (flags.maxRuns !== undefined) {
    // Digits only here; core refuses 0 with the field's own message.
    if (!/^\d+$/.test(flags.maxRuns))
      throw new CliUsageError(`${what('--max-runs')}: "${flags.maxRuns}" is not a whole number of runs (1 or more)`);
    definition.maxRuns = Number(flags.maxRuns);
  }
  if (flags.dst !== undefined) {
    if (flags.cron === undefined && flags.daily === undefined) {
      throw new CliUsageError(`${what('--dst')}: only --cron and --daily follow the wall clock; --every and --at are absolute time`);
    }
    definition.dst = dstPolicy(flags.dst, what('--dst'));
  }
  return definition;
}

function scheduleOf(flag: (typeof SCHEDULE_FLAGS)[number], flags: ScheduleSetFlags, what: (flag: string) => string): ScheduleSpec {
  const value = flags[flag] as string;
  switch (flag) {
    case 'cron':
      return { kind: 'cron', expression: value };
    case 'every':
      // Digits alone are milliseconds, as in the API.
      return { kind: 'every', everyMs: parseDuration(/^\d+$/.test(value) ? Number(value) : value, what('--every'), CliUsageError) };
    case 'at':
      return { kind: 'once', at: instant(value, what('--at')) };
    case 'daily':
      return { kind: 'daily', times: value.split(',').map((time) => time.trim()) };
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliUsageError(
      `${what} is not JSON (${error instanceof Error ? error.message : String(error)}); e.g. --payload '{"tenant":"acme"}'`,
    );
  }
}

function instant(text: string, what: string): string {
  const ms = ISO_INSTANT.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw new CliUsageError(
      `${what}: "${text}" is not an ISO instant with an offset (e.g. 2026-01-05T10:00:00Z or 2026-01-05T11:00:00+01:00)`,
    );
  return new Date(ms).toISOString();
}

function missedRunPolicy(text: string, what: string): MissedRunPolicy {
  if (text === 'latest' || text === 'skip') return text;
  const within = /^all:(.+)$/.exec(text)?.[1];
  if (within === undefined) throw new CliUsageError(`${what}: "${text}" is not one of latest, skip, all:DURATION (e.g. all:6h)`);
  return { all: { within } };
}

const DST_GAPS: readonly string[] = ['next-instant', 'shift', 'skip'];
const DST_OVERLAPS: readonly string[] = ['first', 'last', 'both'];

/** `gap=shift,overlap=last` (either part may be left out: the schedule's default) as core's DstPolicy. */
function dstPolicy(text: string, what: string): DstPolicy {
  const usage = `gap=${DST_GAPS.join('|')} and/or overlap=${DST_OVERLAPS.join('|')}, comma-separated (e.g. --dst gap=shift,overlap=last)`;
  const policy: DstPolicy = {};
  for (const part of text.split(',')) {
    const [field, value, extra] = part.trim().split('=');
    if (field === 'gap' && value !== undefined && extra === undefined && DST_GAPS.includes(value) && policy.gap === undefined) {
      policy.gap = value as Required<DstPolicy>['gap'];
    } else if (
      field === 'overlap' &&
      value !== undefined &&
      extra === undefined &&
      DST_OVERLAPS.includes(value) &&
      policy.overlap === undefined
    ) {
      policy.overlap = value as Required<DstPolicy>['overlap'];
    } else {
      throw new CliUsageError(`${what}: "${part.trim()}" in "${text}" is not one of ${usage}`);
    }
  }
  return policy;
}
