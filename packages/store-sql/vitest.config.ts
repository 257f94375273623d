import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Most files wait on PostgreSQL, SQLite files and child processes rather than compute: two at a time.
    maxWorkers: 2,
  },
});
