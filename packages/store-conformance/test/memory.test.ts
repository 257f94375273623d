import { createMemoryBackend, createMemoryStore } from '@tickwork/core';
import { describeStoreConformance } from '../src/index.js';

describeStoreConformance('memory', async () => {
  const backend = createMemoryBackend();
  return { open: async () => createMemoryStore({ backend }), cleanup: async () => undefined };
});

describeStoreConformance('memory without change subscription', async () => {
  const backend = createMemoryBackend();
  return { open: async () => createMemoryStore({ backend, changeSubscription: false }), cleanup: async () => undefined };
});

describeStoreConformance('memory with heartbeat-only runner presence', async () => {
  const backend = createMemoryBackend();
  return { open: async () => createMemoryStore({ backend, runnerPresence: 'heartbeat' }), cleanup: async () => undefined };
});
