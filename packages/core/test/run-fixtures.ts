import type { Store } from '../src/index.js';

/** A promise with its resolve function, to hold a handler until the test lets it go. */
export function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Every run of one job, oldest first. */
export async function runsOf(store: Store, code: string) {
  return (await store.queryRuns({ code, limit: 1000 })).runs.reverse();
}
