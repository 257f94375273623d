import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Packing and a plain npm install of the tarballs (from npm's cache when it has them) happen once, in beforeAll.
    hookTimeout: 600_000,
    testTimeout: 300_000,
  },
});
