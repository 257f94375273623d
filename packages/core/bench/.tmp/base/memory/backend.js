import { initialJobState } from '../job-state.js';
const backends = new WeakMap();
/** Creates the data behind memory stores. */
export function createMemoryBackend() {
    const backend = Object.freeze({ kind: 'memory-backend' });
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
        listeners: new Set(),
    });
    return backend;
}
/** The data of a backend made by {@link createMemoryBackend}; undefined for anything else. */
export function memoryData(backend) {
    return backends.get(backend);
}
/** Map key of a schedule. */
export function refKey(ref) {
    return `${ref.code}\u0000${ref.key}`;
}
/** Map key of one attempt at one slot. */
export function slotKey(ref, slotAt, attempt) {
    return `${refKey(ref)}\u0000${slotAt.getTime()}\u0000${attempt}`;
}
/** The state of `ref`, created (stamped `now`) when missing. */
export function stateFor(data, ref, now) {
    const key = refKey(ref);
    let state = data.states.get(key);
    if (!state) {
        state = initialJobState(ref, now);
        data.states.set(key, state);
    }
    return state;
}
//# sourceMappingURL=backend.js.map