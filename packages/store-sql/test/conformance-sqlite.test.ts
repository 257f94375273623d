import { describeStoreConformance } from '@tickwork/store-conformance';
import { sqliteFixture } from './fixtures.js';

describeStoreConformance('store-sql on SQLite', sqliteFixture, { raceInstances: 16 });
