import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The end-to-end files mostly wait on the bin processes they spawn: two files at a time.
    maxWorkers: 2,
  },
});
