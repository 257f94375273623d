/**
 * `decorateStore`: the one way to wrap a store (a schema check before every call, metrics and
 * health from every answer, batched writes), so a wrapper cannot drop a method it forgot.
 */
import { InvalidArgumentError } from './errors.js';
import type { Store } from './store.js';

/** A method of the `Store` contract that talks to the backend: every method but `close()`. */
export type StoreOperation = Exclude<
  { [K in keyof Store]-?: NonNullable<Store[K]> extends (...args: never[]) => Promise<unknown> ? K : never }[keyof Store],
  'close'
>;

/** The arguments of one operation. */
export type StoreArguments<K extends StoreOperation> = Parameters<NonNullable<Store[K]>>;

/** What one operation resolves to. */
export type StoreResult<K extends StoreOperation> = Awaited<ReturnType<NonNullable<Store[K]>>>;

/** One call that answered: a union on `operation`, so a hook's `if (answer.operation === …)` narrows `result`. */
export type StoreAnswer = { [K in StoreOperation]: { operation: K; args: StoreArguments<K>; result: StoreResult<K> } }[StoreOperation];

/**
 * Every store operation, and whether a store must have it. Typed against `keyof Store`: an
 * operation missing here, one the contract does not have, or `required` on an optional method is
 * a compile error — so a method added to the contract cannot be left out of any decorated store.
 */
export const STORE_OPERATIONS: { readonly [K in StoreOperation]-?: undefined extends Store[K] ? 'optional' : 'required' } = {
  ping: 'required',
  ensureStates: 'required',
  getStates: 'required',
  setPaused: 'required',
  setScheduleOverride: 'required',
  claimSlots: 'required',
  renewLeases: 'required',
  completeRuns: 'required',
  reapExpired: 'required',
  claimOverdue: 'required',
  heartbeat: 'optional',
  listRunners: 'optional',
  leasePartitions: 'optional',
  releasePartitions: 'optional',
  queryRuns: 'required',
  getRun: 'required',
  pruneRuns: 'required',
  claimMaintenance: 'optional',
  requestRun: 'required',
  pendingRunRequests: 'required',
  upsertSchedules: 'required',
  removeSchedules: 'required',
  getSchedules: 'required',
  listSchedules: 'required',
  schedulesRevision: 'required',
  appendAudit: 'required',
  listAudit: 'required',
  pruneAudit: 'required',
  addAccessToken: 'required',
  getAccessToken: 'required',
  listAccessTokens: 'required',
  removeAccessToken: 'required',
  subscribe: 'optional',
};

/** What a decorator adds around the calls of the store it wraps. Every hook is optional. */
export interface StoreHooks {
  /** Runs before each call reaches the inner store (a schema check, an argument check); what it throws is the call's error. */
  before?(operation: StoreOperation, args: readonly unknown[]): void | Promise<void>;
  /** Sees each answer before the caller does. */
  after?(answer: StoreAnswer): void;
  /**
   * The one error-mapping hook: what a call that threw (in `before`, the store or `after`) throws instead —
   * the error itself to only observe it.
   */
  error?(operation: StoreOperation, error: unknown): unknown;
  /** Operations the decorator implements itself (the batching store's `completeRuns`); the hooks wrap them like the inner store's. */
  replace?: { [K in StoreOperation]?: NonNullable<Store[K]> };
}

/**
 * A store that forwards every operation of {@link STORE_OPERATIONS} to `inner` (or to
 * `hooks.replace`) through the hooks, with `name`, `capabilities` and `close()` passed through.
 * An optional operation is there only when `inner` has it; a required one `inner` lacks is
 * refused here, once, naming it — never dropped. Without `before`, `after` and `error`, the inner
 * store's methods are forwarded as they are (no per-call wrapper).
 */
export function decorateStore(inner: Store, hooks: StoreHooks): Store {
  const decorated = {
    get name() {
      return inner.name;
    },
    get capabilities() {
      return inner.capabilities;
    },
    close: () => inner.close(),
  } as Record<string, unknown>;
  const { before, after, error: mapError, replace } = hooks;
  const wraps = before !== undefined || after !== undefined || mapError !== undefined;
  for (const operation of Object.keys(STORE_OPERATIONS) as StoreOperation[]) {
    const own = replace?.[operation];
    const method = (own ?? inner[operation]) as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (typeof method !== 'function') {
      if (STORE_OPERATIONS[operation] === 'required') {
        throw new InvalidArgumentError(`store "${inner.name}" has no ${operation}(): it does not implement the Store contract`);
      }
      continue;
    }
    const self = own ? replace : inner;
    if (!wraps) {
      decorated[operation] = method.bind(self);
      continue;
    }
    decorated[operation] = async (...args: unknown[]) => {
      try {
        if (before) await before(operation, args);
        const result = await method.apply(self, args);
        after?.({ operation, args, result } as StoreAnswer);
        return result;
      } catch (error) {
        throw mapError ? mapError(operation, error) : error;
      }
    };
  }
  return decorated as unknown as Store;
}
