/**
 * How Redis and ioredis failures become core's error classes, so a host can `instanceof`
 * them and the message says what to do. Every message reads `[tickwork] [store-redis] …`.
 */
import { isTickworkError, messagePrefix, StoreSchemaError, StoreUnavailableError, type TickworkError } from '@tickwork/core';

/** Prefix of every message this package writes. */
export const MESSAGE_PREFIX = messagePrefix('store-redis');

/** What an "unreachable" message tells the user to do, in terms that hold on any machine. */
export const START_REDIS_HINT =
  'start the Redis server (for example with your service manager, or `redis-server` for a local one) or fix the url / client options';

const WRONGTYPE_REPLY = /TICKWORK_WRONGTYPE key=(.*) type=(\w+) expected=(\w+)/;
const CORRUPT_REPLY = /TICKWORK_CORRUPT key=(.*?) why=(.*)/;
const UNAVAILABLE_PATTERNS = [
  /ECONNREFUSED/,
  /ECONNRESET/,
  /ETIMEDOUT/,
  /EHOSTUNREACH/,
  /ENOTFOUND/,
  /EPIPE/,
  /Connection is closed/,
  /Command timed out/,
  /max retries per request/i,
  /Stream isn't writeable/,
  /LOADING/,
  /MASTERDOWN/,
  /READONLY/,
];

/** Where the store connects, for messages. */
export interface Endpoint {
  host: string;
  port: number;
}

/** A StoreSchemaError naming the key that holds an unexpected Redis type. */
export function wrongTypeError(key: string, actual: string, expected: string): StoreSchemaError {
  return new StoreSchemaError(
    `${MESSAGE_PREFIX} key "${key}" holds a Redis ${actual}, expected a ${expected}: another application writes under this prefix, or the data is from an incompatible version; nothing was changed (choose another prefix or remove the key)`,
  );
}

/** A StoreSchemaError naming a key whose value this version cannot read. */
export function corruptValueError(key: string, why: string, cause?: unknown): StoreSchemaError {
  return new StoreSchemaError(
    `${MESSAGE_PREFIX} key "${key}" holds a value that is not what this version writes (${why}); nothing was changed (choose another prefix or remove the key)`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The call's write was applied on the primary but fewer replicas than the `replicas` option asks
 * for acknowledged it in time: a failover now could lose it, so its answer must not be acted on.
 */
export function notReplicatedError(
  operation: string,
  replicas: { count: number; timeoutMs: number },
  acknowledged: number,
): StoreUnavailableError {
  return new StoreUnavailableError(
    `${MESSAGE_PREFIX} ${operation}: ${acknowledged} of the ${replicas.count} replica(s) the replicas option requires (replicas.count ${replicas.count}) acknowledged the write within replicas.timeoutMs (${replicas.timeoutMs} ms); the primary applied it, but a failover could lose it, so its answer is not used — retry the call once replicas are back (claims by the same runner are idempotent)`,
  );
}

/** Maps anything a Redis call threw to a Tickwork error; `operation` names the store method. */
export function toStoreError(thrown: unknown, operation: string, endpoint: Endpoint): TickworkError {
  if (isTickworkError(thrown)) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  const wrongType = WRONGTYPE_REPLY.exec(message);
  if (wrongType) return wrongTypeError(wrongType[1] ?? '?', wrongType[2] ?? '?', wrongType[3] ?? '?');
  const corrupt = CORRUPT_REPLY.exec(message);
  if (corrupt) return corruptValueError(corrupt[1] ?? '?', corrupt[2] ?? '?', thrown);
  const where = `Redis at ${endpoint.host}:${endpoint.port}`;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message)) {
    return new StoreUnavailableError(
      `${MESSAGE_PREFIX} ${operation}: ${where} refused the credentials (${message}); check the username and password in the store's url or client options`,
      { cause: thrown },
    );
  }
  if (/WRONGTYPE/.test(message)) {
    return new StoreSchemaError(`${MESSAGE_PREFIX} ${operation}: a key under the prefix holds an unexpected Redis type (${message})`, {
      cause: thrown,
    });
  }
  if (/Cannot read properties|Expected value but found|Expected object key|cjson/i.test(message)) {
    return new StoreSchemaError(
      `${MESSAGE_PREFIX} ${operation}: a value under the prefix is not the JSON this version writes (${message})`,
      {
        cause: thrown,
      },
    );
  }
  if (UNAVAILABLE_PATTERNS.some((pattern) => pattern.test(message)) || !(thrown instanceof Error) || !('command' in thrown)) {
    return new StoreUnavailableError(
      `${MESSAGE_PREFIX} ${operation}: cannot reach ${where} (${message}); the call may not have happened — retry it. If Redis is not running, ${START_REDIS_HINT}`,
      { cause: thrown },
    );
  }
  return new StoreUnavailableError(`${MESSAGE_PREFIX} ${operation}: ${where} answered with an error (${message})`, { cause: thrown });
}
