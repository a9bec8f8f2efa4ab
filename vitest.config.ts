import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Engine and registry tests start real daemons; forks isolate their child processes.
    pool: 'forks',
    reporters: ['default'],
  },
});
