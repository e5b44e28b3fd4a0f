import { elasticsearchAdapter } from './adapters/elasticsearch.ts';
import { conformance } from './suite.ts';

conformance(elasticsearchAdapter());
