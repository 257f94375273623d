import { describeStoreConformance } from '@tickwork/store-conformance';
import { pgFixture } from './fixtures.js';

describeStoreConformance('store-sql on PostgreSQL', pgFixture, { raceInstances: 16 });
