/**
 * The schedule form as the API takes it, turned into core's {@link ScheduleDefinition}; every
 * refusal names the form field at fault, so the page can put the message beside it.
 */
import { InvalidArgumentError, parseDuration, type Job, type ScheduleDefinition, type ScheduleSpec } from '@tickwork/core';
import { compileSchedule } from '@tickwork/core/schedule';
import { assertScheduleKey } from '@tickwork/core/store';
import { DashboardHttpError } from './errors.js';

/** The fields of the schedule form (and of `PUT …/schedules/:key`). */
export const FORM_FIELDS = [
  'kind',
  'every',
  'anchor',
  'times',
  'weekdays',
  'monthDays',
  'expression',
  'at',
  'timezone',
  'payload',
  'enabled',
  'description',
  'startAt',
  'expiresAt',
] as const;

const KINDS = ['every', 'daily', 'cron', 'once'] as const;

/** The spec a form describes; 400 naming the field when it cannot be one. */
export function specOfForm(body: Record<string, unknown>): ScheduleSpec {
  const kind = body.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    throw new DashboardHttpError(400, `kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind ?? null)}`, 'kind');
  }
  const text = (field: string): string => {
    const value = body[field];
    if (typeof value !== 'string' || value.trim() === '')
      throw new DashboardHttpError(400, `${field} is required for a "${kind}" schedule`, field);
    return value.trim();
  };
  const numbers = (field: string, min: number, max: number): number[] | undefined => {
    const value = body[field];
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) return undefined;
    const list =
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : value;
    if (!Array.isArray(list)) throw new DashboardHttpError(400, `${field} must be a list of numbers`, field);
    return list.map((item: unknown) => {
      const n = typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : item;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
        throw new DashboardHttpError(400, `${field}: ${JSON.stringify(item)} is not a whole number ${min} … ${max}`, field);
      }
      return n;
    });
  };
  switch (kind) {
    case 'every': {
      let everyMs: number;
      try {
        everyMs = parseDuration(text('every'), 'every', InvalidArgumentError);
      } catch (error) {
        if (error instanceof DashboardHttpError) throw error;
        throw new DashboardHttpError(400, (error as Error).message, 'every', { cause: error });
      }
      const spec: ScheduleSpec = { kind: 'every', everyMs };
      const anchor = typeof body.anchor === 'string' && body.anchor.trim() !== '' ? body.anchor.trim() : undefined;
      if (anchor !== undefined) {
        const d = new Date(anchor);
        if (Number.isNaN(d.getTime()))
          throw new DashboardHttpError(400, `anchor: ${JSON.stringify(anchor)} is not an ISO instant`, 'anchor');
        spec.anchor = d.toISOString();
      }
      return spec;
    }
    case 'daily': {
      const raw = body.times;
      const times = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [])
        .map((t: unknown) => (typeof t === 'string' ? t.trim() : t))
        .filter((t: unknown) => t !== '');
      if (times.length === 0)
        throw new DashboardHttpError(400, 'times is required for a "daily" schedule (HH:MM, comma-separated)', 'times');
      if (times.some((t: unknown) => typeof t !== 'string'))
        throw new DashboardHttpError(400, 'times must be text like 06:00, 18:30', 'times');
      const spec: ScheduleSpec = { kind: 'daily', times: times as string[] };
      const weekdays = numbers('weekdays', 0, 6);
      const monthDays = numbers('monthDays', 1, 31);
      if (weekdays) spec.weekdays = weekdays;
      if (monthDays) spec.monthDays = monthDays;
      return spec;
    }
    case 'cron':
      return { kind: 'cron', expression: text('expression') };
    default: {
      const at = new Date(text('at'));
      if (Number.isNaN(at.getTime()))
        throw new DashboardHttpError(400, `at: ${JSON.stringify(body.at)} is not an instant (use e.g. 2026-03-01T09:00:00Z)`, 'at');
      return { kind: 'once', at: at.toISOString() };
    }
  }
}

/** The form field a core schedule-compile message is about. */
function specField(spec: ScheduleSpec, message: string): string {
  if (spec.kind === 'cron') return 'expression';
  if (spec.kind === 'every') return 'every';
  if (spec.kind === 'once') return 'at';
  if (/weekday/i.test(message)) return 'weekdays';
  if (/month ?day/i.test(message)) return 'monthDays';
  return 'times';
}

/** The zone a form's schedule runs in, and the checks of zone and spec: 400 naming `timezone` or the spec's field. */
export function compileForm(job: Job, body: Record<string, unknown>, defaultTimezone: string) {
  const spec = specOfForm(body);
  const tz = typeof body.timezone === 'string' && body.timezone.trim() !== '' ? body.timezone.trim() : null;
  if (body.timezone !== undefined && body.timezone !== null && typeof body.timezone !== 'string')
    throw new DashboardHttpError(400, 'timezone must be text (an IANA zone)', 'timezone');
  if (tz !== null) {
    if (spec.kind === 'every' || spec.kind === 'once') {
      throw new DashboardHttpError(
        400,
        `timezone applies to cron and daily schedules only; a "${spec.kind}" schedule is absolute time`,
        'timezone',
      );
    }
    try {
      compileSchedule('* * * * *', { timezone: tz, what: 'timezone' });
    } catch (error) {
      throw new DashboardHttpError(400, (error as Error).message, 'timezone', { cause: error });
    }
  }
  const zone = tz ?? job.timezone ?? defaultTimezone;
  try {
    return { spec, tz, compiled: compileSchedule(spec, { timezone: zone, what: specField(spec, '') }) };
  } catch (error) {
    const message = (error as Error).message;
    throw new DashboardHttpError(400, message, specField(spec, message), { cause: error });
  }
}

/** The whole form as core's definition (core's own checks still run on upsert). */
export function definitionOfForm(job: Job, key: string, body: Record<string, unknown>, defaultTimezone: string): ScheduleDefinition {
  for (const field of Object.keys(body)) {
    if (!(FORM_FIELDS as readonly string[]).includes(field))
      throw new DashboardHttpError(400, `${field} is not a field of a schedule (known: ${FORM_FIELDS.join(', ')})`, field);
  }
  try {
    assertScheduleKey(key, `job "${job.code}"`);
  } catch (error) {
    throw new DashboardHttpError(400, (error as Error).message, 'key', { cause: error });
  }
  const { spec, tz } = compileForm(job, body, defaultTimezone);
  let payload: unknown = null;
  if (typeof body.payload === 'string') {
    if (body.payload.trim() !== '') {
      try {
        payload = JSON.parse(body.payload);
      } catch (error) {
        throw new DashboardHttpError(400, `payload is not valid JSON: ${(error as Error).message}`, 'payload');
      }
    }
  } else if (body.payload !== undefined) {
    payload = body.payload;
  }
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean')
    throw new DashboardHttpError(400, 'enabled must be true or false', 'enabled');
  const optionalText = (field: 'description' | 'startAt' | 'expiresAt'): string | null => {
    const value = body[field];
    if (value === undefined || value === null || value === '') return null;
    if (typeof value !== 'string') throw new DashboardHttpError(400, `${field} must be text`, field);
    return value;
  };
  return {
    key,
    schedule: spec,
    timezone: tz,
    payload,
    enabled: body.enabled ?? true,
    description: optionalText('description'),
    startAt: optionalText('startAt'),
    expiresAt: optionalText('expiresAt'),
  };
}

/** The form field a core validation message names (`job "x" schedule "k": payload …`), or null. */
export function fieldOfCoreMessage(message: string): string | null {
  const match = /schedule "[^"]*": ?([A-Za-z/]+)/.exec(message);
  const named = match?.[1] ?? (/payload/.test(message) ? 'payload' : null);
  if (named === null) return null;
  if (named === 'startAt/expiresAt') return 'expiresAt';
  if (named === 'schedule') return /once at/.test(message) ? 'at' : 'kind';
  return (FORM_FIELDS as readonly string[]).includes(named) || named === 'key' ? named : null;
}
