import { parseDuration, type Duration } from '@tickwork/core';
import { InvalidNotifyOptionError } from './errors.js';

/** Checks `value` is a plain object whose keys are all in `known`; `what` names it in errors. */
export function assertOptions(value: unknown, what: string, known: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidNotifyOptionError(`${what} must be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidNotifyOptionError(`${what}.${key} is not a known option (known: ${known.join(', ')})`);
    }
  }
  return value as Record<string, unknown>;
}

/** A positive duration in milliseconds, or `fallback` when absent. */
export function durationOption(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  return parseDuration(value as Duration, what, InvalidNotifyOptionError);
}

/** An integer within [min, max], or `fallback` when absent. */
export function integerOption(value: unknown, what: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidNotifyOptionError(`${what} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** A non-empty string, or `fallback` when absent (`undefined` fallback: required). */
export function stringOption(value: unknown, what: string, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidNotifyOptionError(`${what} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** An absolute URL whose protocol is one of `protocols` (`['http:', 'https:']`). */
export function urlOption(value: unknown, what: string, protocols: readonly string[]): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new InvalidNotifyOptionError(`${what} must be a URL string, got ${describe(value)}`);
  }
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new InvalidNotifyOptionError(`${what}: "${String(value)}" is not a valid URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new InvalidNotifyOptionError(
      `${what}: "${redact(url)}" must use ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')}, not ${url.protocol.replace(/:$/, '')}`,
    );
  }
  if (url.hostname === '') throw new InvalidNotifyOptionError(`${what}: "${redact(url)}" has no host`);
  return url;
}

/** A function, or `fallback` when absent. */
export function functionOption<F>(value: unknown, what: string, fallback: F): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw new InvalidNotifyOptionError(`${what} must be a function, got ${describe(value)}`);
  return value as F;
}

/** The URL without its password, for messages and logs (webhook URLs often carry a token in the path too). */
export function redact(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
