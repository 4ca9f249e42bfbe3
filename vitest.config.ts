import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/worker-sources.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Scenario and browser tests start real processes; keep the two cores from thrashing.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
