import { kafkaAdapter } from './adapters/kafka.ts';
import { conformance } from './suite.ts';

conformance(kafkaAdapter());
