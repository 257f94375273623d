import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A safety net: the CPU-bound property tests take ~6 s at load 8 and over 60 s at load 29.
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
