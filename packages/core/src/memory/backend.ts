import { freePartitionSlots, type PartitionSlot } from '../partitions.js';
import type { JobState, RunRecord, RunnerRecord, RunRequest, ScheduleRef, StoreChange } from '../store.js';
import type { AccessTokenRecord, AuditRecord } from '../store-access.js';
import { initialJobState } from '../job-state.js';

/** The shared data behind one or more memory stores (one "server"). */
export interface MemoryBackend {
  readonly kind: 'memory-backend';
}

/** A subscription of one store instance. */
export interface MemoryListener {
  owner: object;
  listener: (change: StoreChange) => void;
}

/** What a backend holds; reachable only through {@link memoryData}, so users cannot mutate it. */
export interface MemoryData {
  /** By {@link refKey}. */
  states: Map<string, JobState>;
  /** Maintenance task name → epoch ms of its last won claim ({@link Store.claimMaintenance}). */
  maintenance: Map<string, number>;
  /** By id; insertion order is id order. */
  runs: Map<string, RunRecord>;
  /** {@link slotKey} → run id: what makes a slot + attempt claimable once. */
  slots: Map<string, string>;
  /** {@link refKey} → ids of its running runs, for overlap checks without a scan. */
  running: Map<string, Set<string>>;
  /** {@link refKey} → ids of its waiting runs. */
  waiting: Map<string, Set<string>>;
  /** Run-now request id → the id of the run claimed for it (what makes a request claimable once). */
  requestRuns: Map<string, string>;
  /** {@link refKey} → last fencing token handed out; outlives pruned runs so tokens never repeat. */
  tokens: Map<string, number>;
  /** Runtime schedules by {@link refKey}. */
  schedules: Map<string, StoredSchedule>;
  /** Last schedule version handed out (strictly increasing over all schedules). */
  scheduleSeq: number;
  /** Removals so far (with `scheduleSeq`, the schedules' revision). */
  scheduleRemovals: number;
  /** Schedules ordered by code then key, for listing; null after a creation or removal until the next list. */
  scheduleOrder: StoredSchedule[] | null;
  /** Pending run requests, oldest first. */
  requests: RunRequest[];
  nextRunId: number;
  nextRequestId: number;
  /** The audit log, oldest first (id order). */
  audit: AuditRecord[];
  nextAuditId: number;
  /** Access tokens by id, in insertion order. */
  accessTokens: Map<string, AccessTokenRecord>;
  listeners: Set<MemoryListener>;
  /** Runner records by id, each with the store instance that sent its last heartbeat. */
  runners: Map<string, MemoryRunner>;
  /** Partition leases, indexed by partition. */
  partitions: PartitionSlot[];
  /** Partition members: runner id → membership expiry (epoch ms). */
  partitionMembers: Map<string, number>;
  /** Store instances closed so far (their runners' presence is gone). */
  closedOwners: WeakSet<object>;
}

/** A runner's record as the memory backend holds it (`connected` and `alive` are computed when read). */
export interface MemoryRunner extends Omit<RunnerRecord, 'connected' | 'alive'> {
  owner: object;
}

/** A runtime schedule as the memory backend holds it: the canonical definition text plus bookkeeping. */
export interface StoredSchedule extends ScheduleRef {
  definition: string;
  enabled: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const backends = new WeakMap<MemoryBackend, MemoryData>();

/** Creates the data behind memory stores. */
export function createMemoryBackend(): MemoryBackend {
  const backend: MemoryBackend = Object.freeze({ kind: 'memory-backend' as const });
  backends.set(backend, {
    states: new Map(),
    runs: new Map(),
    slots: new Map(),
    running: new Map(),
    waiting: new Map(),
    requestRuns: new Map(),
    tokens: new Map(),
    schedules: new Map(),
    scheduleSeq: 0,
    scheduleRemovals: 0,
    scheduleOrder: null,
    requests: [],
    nextRunId: 1,
    nextRequestId: 1,
    audit: [],
    nextAuditId: 1,
    accessTokens: new Map(),
    listeners: new Set(),
    runners: new Map(),
    partitions: freePartitionSlots(),
    partitionMembers: new Map(),
    maintenance: new Map(),
    closedOwners: new WeakSet(),
  });
  return backend;
}

/** The data of a backend made by {@link createMemoryBackend}; undefined for anything else. */
export function memoryData(backend: MemoryBackend): MemoryData | undefined {
  return backends.get(backend);
}

/** Map key of a schedule. */
export function refKey(ref: ScheduleRef): string {
  return `${ref.code}\u0000${ref.key}`;
}

/** Map key of one attempt at one slot. */
export function slotKey(ref: ScheduleRef, slotAt: Date, attempt: number): string {
  return `${refKey(ref)}\u0000${slotAt.getTime()}\u0000${attempt}`;
}

/** The state of `ref`, created (stamped `now`) when missing. */
export function stateFor(data: MemoryData, ref: ScheduleRef, now: Date): JobState {
  const key = refKey(ref);
  let state = data.states.get(key);
  if (!state) {
    state = initialJobState(ref, now);
    data.states.set(key, state);
  }
  return state;
}
