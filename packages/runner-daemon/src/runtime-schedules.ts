import type { JobState, RuntimeSchedule, ScheduleRef, Store } from '@tickwork/core';
import type { SchedulePage } from '@tickwork/core/store';
import { scheduleId } from './schedule-entry.js';

/** Page size of every runtime-schedule read: the most one store call takes. */
export const SCHEDULE_PAGE = 1_000;

/** State reads of a load in flight at once. */
const STATE_READS_IN_FLIGHT = 4;

/** Which runtime schedules a daemon runs (with `partitions: true`, those of its partitions). */
export type Keep = (code: string, key: string) => boolean;

const always: Keep = () => true;

/** A runtime schedule with its state, as read together. */
export interface StoredSchedule {
  schedule: RuntimeSchedule;
  state: JobState;
}

/**
 * The runtime schedules of the given codes (others belong to another deployment and are left
 * alone), page by page in the store's order; the next page is requested while the caller works
 * on this one. With `partitions` (a partitioned daemon's share), the store reads only theirs
 * (`listSchedules({ partitions })`); `keep` is asked all the same (a share changes while it lists).
 */
export async function* schedulePages(
  store: Store,
  codes: ReadonlySet<string>,
  keep: Keep = always,
  partitions?: readonly number[],
): AsyncGenerator<RuntimeSchedule[]> {
  const query = partitions === undefined ? { limit: SCHEDULE_PAGE } : { limit: SCHEDULE_PAGE, partitions };
  let next: Promise<SchedulePage> | null = store.listSchedules(query);
  while (next) {
    const page: SchedulePage = await next;
    next = page.nextCursor ? store.listSchedules({ ...query, cursor: page.nextCursor }) : null;
    // A caller that stops early must not leave the prefetch's failure unhandled.
    next?.catch(() => undefined);
    yield page.schedules.filter((schedule) => codes.has(schedule.code) && keep(schedule.code, schedule.key));
  }
}

/**
 * The runtime schedules of the given codes with their states, page by page. Each page's states
 * are requested as soon as it is listed, so listing and state reads overlap ({@link STATE_READS_IN_FLIGHT}
 * at once). One whose state is gone was removed between the two reads and is left out.
 */
export async function* loadSchedules(
  store: Store,
  codes: ReadonlySet<string>,
  keep: Keep = always,
  partitions?: readonly number[],
): AsyncGenerator<StoredSchedule[]> {
  const reads: Array<Promise<StoredSchedule[]>> = [];
  try {
    for await (const schedules of schedulePages(store, codes, keep, partitions)) {
      if (schedules.length === 0) continue;
      const read = store.getStates(schedules).then((states) => withStates(schedules, states));
      // Handled from the start: it may fail while this generator waits for the next page or its caller
      // works on one (an unhandled rejection ends the process); awaiting it below still throws.
      read.catch(() => undefined);
      reads.push(read);
      if (reads.length >= STATE_READS_IN_FLIGHT) yield await (reads.shift() as Promise<StoredSchedule[]>);
    }
    while (reads.length > 0) yield await (reads.shift() as Promise<StoredSchedule[]>);
  } finally {
    // A load that failed part-way must not leave the other reads' failures unhandled.
    for (const read of reads) read.catch(() => undefined);
  }
}

/**
 * Reads the given runtime schedules (at most {@link SCHEDULE_PAGE}) and their states in one
 * round trip each, side by side; a ref missing from the answer no longer exists.
 */
export async function readSchedules(store: Store, refs: readonly ScheduleRef[]): Promise<Map<string, StoredSchedule>> {
  const [schedules, states] = await Promise.all([store.getSchedules(refs), store.getStates(refs)]);
  return new Map(withStates(schedules, states).map((found) => [scheduleId(found.schedule.code, found.schedule.key), found]));
}

function withStates(schedules: readonly RuntimeSchedule[], states: readonly JobState[]): StoredSchedule[] {
  const byId = new Map(states.map((state) => [scheduleId(state.code, state.key), state]));
  const found: StoredSchedule[] = [];
  for (const schedule of schedules) {
    const state = byId.get(scheduleId(schedule.code, schedule.key));
    if (state) found.push({ schedule, state });
  }
  return found;
}
