import { defineConfig } from 'vitest/config';

/** Unit tests only: no servers, no global setup (`npm run test:unit`). */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'connectors/**/*.test.ts'],
    exclude: ['**/*.it.test.ts', 'node_modules/**'],
    testTimeout: 60_000,
  },
});
