/** The key of a job's own, code-defined schedule. */
export const DEFAULT_SCHEDULE_KEY = '';
/** Every run status, in display order. */
export const RUN_STATUSES = [
    'waiting',
    'running',
    'succeeded',
    'failed',
    'timed_out',
    'interrupted',
    'skipped',
];
/** Every overlap policy. */
export const OVERLAP_POLICIES = ['skip', 'bufferOne', 'bufferAll', 'cancelOther', 'allowAll'];
//# sourceMappingURL=store.js.map