import type { JobState, RunRecord, RunRequest, ScheduleRef, StoreChange } from '../store.js';
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
    listeners: Set<MemoryListener>;
}
/** A runtime schedule as the memory backend holds it: the canonical definition text plus bookkeeping. */
export interface StoredSchedule extends ScheduleRef {
    definition: string;
    enabled: boolean;
    version: number;
    createdAt: Date;
    updatedAt: Date;
}
/** Creates the data behind memory stores. */
export declare function createMemoryBackend(): MemoryBackend;
/** The data of a backend made by {@link createMemoryBackend}; undefined for anything else. */
export declare function memoryData(backend: MemoryBackend): MemoryData | undefined;
/** Map key of a schedule. */
export declare function refKey(ref: ScheduleRef): string;
/** Map key of one attempt at one slot. */
export declare function slotKey(ref: ScheduleRef, slotAt: Date, attempt: number): string;
/** The state of `ref`, created (stamped `now`) when missing. */
export declare function stateFor(data: MemoryData, ref: ScheduleRef, now: Date): JobState;
//# sourceMappingURL=backend.d.ts.map