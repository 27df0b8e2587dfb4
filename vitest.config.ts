import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers and load them; on a 2-core machine running them
    // side by side makes them flaky for no gain, so files run one at a time.
    fileParallelism: false,
    // Each integration file holds the machine's run lock while it runs (test/helpers/lock-setup.ts).
    setupFiles: ['test/helpers/lock-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
