import { describeStoreConformance } from '@tickwork/store-conformance';
import { afterAll } from 'vitest';
import { pgFixture, pgSchemaTemplate } from './fixtures.js';

// Each test gets a schema no other test is using, as migrated: one this file migrated, a replay of it, or one
// reset to it (see pgSchemaTemplate).
const schemas = pgSchemaTemplate();
afterAll(() => schemas.drop());

describeStoreConformance('store-sql on PostgreSQL', () => pgFixture(schemas), { raceInstances: 16 });
