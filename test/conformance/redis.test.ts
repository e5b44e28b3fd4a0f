import { redisAdapter } from './adapters/redis.ts';
import { conformance } from './suite.ts';

conformance(redisAdapter());
