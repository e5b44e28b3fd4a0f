import { consoleAdapter } from './adapters/console.ts';
import { conformance } from './suite.ts';

conformance(consoleAdapter());
