import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The scenarios mostly wait on their daemons and the clock: chaos.test.ts and chaos-recovery.test.ts run side by side.
    maxWorkers: 2,
  },
});
