import { describeStoreConformance } from '@tickwork/store-conformance';
import { makeRedisFixture } from './redis-fixture.js';

describeStoreConformance('redis', makeRedisFixture);
