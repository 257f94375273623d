import { describeStoreConformance } from '@tickwork/store-conformance';
import { sqliteFileTemplate, sqliteFixture } from './fixtures.js';

// Each test gets a file of its own, a copy of one file this file migrated (see sqliteFileTemplate).
const files = sqliteFileTemplate();

describeStoreConformance('store-sql on SQLite', () => sqliteFixture(files), { raceInstances: 16 });
