/** vitest setup file: the dirs a test file made with testTempDir() go when the file ends. */
import { afterAll } from 'vitest';
import { removeTestTempDirs } from './temp-dirs.ts';

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack).
afterAll(removeTestTempDirs);
