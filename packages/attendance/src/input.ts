import { InvalidAttendanceInputError } from './errors.js';

/** Checks a row id: a positive safe integer. */
export function requireId(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidAttendanceInputError(`${what} must be a positive integer id, got ${describe(value)}`);
  }
  return value;
}

/** Checks an instant (Date, ISO string or epoch milliseconds) and returns a copy. */
export function requireInstant(value: unknown, what: string): Date {
  const date =
    value instanceof Date ? new Date(value.getTime()) : typeof value === 'string' || typeof value === 'number' ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) {
    throw new InvalidAttendanceInputError(`${what} must be a valid instant (Date, ISO-8601 string or epoch ms), got ${describe(value)}`);
  }
  return date;
}

/** Checks a display name: a non-blank string of at most 255 characters; returns it trimmed. */
export function requireName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.trim().length > 255) {
    throw new InvalidAttendanceInputError(`${what} must be a non-empty string of at most 255 characters, got ${describe(value)}`);
  }
  return value.trim();
}

/** Checks an options object is an object. */
export function requireObject<T>(value: T, what: string): T {
  if (value === null || typeof value !== 'object') {
    throw new InvalidAttendanceInputError(`${what} must be an object, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value instanceof Date) return `Invalid Date`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
