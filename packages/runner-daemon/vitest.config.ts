import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // The three cluster files mostly wait on child processes; running them side by side keeps the suite short.
    maxWorkers: 3,
  },
});
