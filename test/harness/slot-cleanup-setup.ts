/** vitest setup file: the slots of the databases a test file created go when the file ends (./slot-cleanup.ts). */
import { afterAll } from 'vitest';
import { dropLeftoverSlots } from './slot-cleanup.ts';

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack).
afterAll(dropLeftoverSlots);
