import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Packing and a plain npm install of the tarballs (from npm's cache when it has them) happen once, in beforeAll.
    // A safety net: packing ten packages and one npm install took over 600 s in a fresh-clone run at load 25-30.
    hookTimeout: 1_500_000,
    testTimeout: 300_000,
  },
});
