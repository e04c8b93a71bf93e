// Test runner settings. Thread tests spawn worker pools, so keep vitest's own
// parallelism modest: the CI machine has two cores. The global setup points the cache
// folder at a temporary one, so tests never write to the user's cache.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/helpers/cache_env.ts'],
  },
});
