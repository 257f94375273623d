import type { RunPage, RunQuery } from '../store.js';
import { type MemoryData } from './backend.js';
/** Validates a run query before anything is read. */
export declare function checkQuery(query: RunQuery): void;
/** One page of the run log; a linear scan is fine for an in-process store. */
export declare function queryRuns(data: MemoryData, query: RunQuery): RunPage;
/** Deletes finished runs that finished before `olderThan`, `batchSize` at a time; frees their slots too, as a deleted SQL row would. */
export declare function pruneRuns(data: MemoryData, olderThan: Date, batchSize: number): number;
//# sourceMappingURL=run-log.d.ts.map