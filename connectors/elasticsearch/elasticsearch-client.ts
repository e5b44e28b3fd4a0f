/**
 * The Elasticsearch client settings of a sink file, shared by the sink and
 * its verifier: nodes, timeouts, failover, TLS and authentication.
 */
import { readFileSync } from 'node:fs';
import type { ClientOptions } from '@elastic/elasticsearch';
import { OperatorError } from '../../src/errors.ts';
import type { ElasticsearchSinkConfig } from './elasticsearch-config.ts';

/** The configured nodes (the config schema guarantees `node` or a non-empty `nodes`). */
export function nodesOf(config: ElasticsearchSinkConfig): string[] {
  return config.nodes?.length ? config.nodes : [config.node!];
}

export function clientOptions(config: ElasticsearchSinkConfig): ClientOptions {
  const nodes = nodesOf(config);
  const options: ClientOptions = {
    nodes,
    requestTimeout: config.request_timeout_ms,
    // Failover, not a retry loop: a request that cannot reach a node goes to
    // the next one, each node at most once; then the error surfaces and the
    // caller (the runner's backoff) decides. One node: no retry at all.
    maxRetries: nodes.length - 1,
    tls: tlsOptions(config.tls, config.name),
  };
  if (config.auth && 'api_key' in config.auth) options.auth = { apiKey: config.auth.api_key };
  else if (config.auth) options.auth = { username: config.auth.username, password: config.auth.password };
  return options;
}

/** `tls` of the sink file → the client's; https:// nodes use TLS whatever `tls` says, http:// ones never. */
function tlsOptions(tls: ElasticsearchSinkConfig['tls'], sink: string): ClientOptions['tls'] {
  if (!tls || tls === true) return undefined;
  const pem = (key: 'ca' | 'cert' | 'key'): string | undefined => {
    const file = tls[key];
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new OperatorError(`sink "${sink}": cannot read tls.${key} file ${file}: ${(err as Error).message}`, { cause: err, hint: 'tls file paths are relative to the working directory; check the path and its permissions', permanent: true });
    }
  };
  return { rejectUnauthorized: tls.reject_unauthorized, ca: pem('ca'), cert: pem('cert'), key: pem('key') };
}
