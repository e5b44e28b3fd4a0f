import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    // Removes the dirs each test file made with testTempDir(), and the slots of the
    // databases it created, when the file ends.
    setupFiles: ['test/harness/temp-dirs-setup.ts', 'test/harness/slot-cleanup-setup.ts'],
    testTimeout: 60_000,
    // Servers started in beforeAll have their own limits (no progress for a while, see
    // test/harness/server-process.ts), which fail with the server's log; on a loaded
    // machine they may take longer than 3 minutes in all.
    hookTimeout: 600_000,
    pool: 'forks',
    // Two files at a time, also on a 2-core machine (vitest's default there is one):
    // most e2e time is spent waiting on servers and child processes, and the harness
    // is built for files sharing the servers (test/harness/README.md). A fresh-clone
    // .ci/run took 1 528 s with one worker and 1 152 s with two on the same machine.
    maxWorkers: 2,
  },
});
