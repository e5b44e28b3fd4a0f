import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    // Removes the dirs each test file made with testTempDir() when the file ends.
    setupFiles: ['test/harness/temp-dirs-setup.ts'],
    testTimeout: 60_000,
    // Servers started in beforeAll have their own limits (no progress for a while, see
    // test/harness/server-process.ts), which fail with the server's log; on a loaded
    // machine they may take longer than 3 minutes in all.
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
