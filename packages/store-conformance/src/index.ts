export { describeStoreConformance } from './describe-store-conformance.js';
export type { ConformanceOptions, StoreFixture, StoreFixtureFactory } from './fixture.js';
export { BASE_INSTANT, claimFor, instantAt, prepareSchedules, scheduleInput } from './claim-for.js';
