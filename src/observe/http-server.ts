/**
 * The worker's HTTP listener: GET /metrics, /healthz, /readyz, /status and the
 * status page at /. Read-only, no authentication: bind it to the loopback or
 * a private network (the default is 127.0.0.1; the container image binds
 * every interface of the container).
 *
 * `?source=<name>` picks one source of a process that runs several; what it
 * means (or that it is ignored) is the routes' business. A route that does
 * not know the name throws UnknownSource: 404 with the names it knows.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/http-schema.ts';
import { OperatorError } from '../errors.ts';
import type { ProbeResult, ReadinessOptions } from './health.ts';

export interface HttpRoutes {
  metrics(): Promise<{ contentType: string; body: string }>;
  liveness(source: string | null): ProbeResult;
  readiness(source: string | null, options: ReadinessOptions): ProbeResult;
  /** The JSON and its HTTP status (503 for a source that is not running). */
  status(source: string | null): { code: number; body: unknown };
  /** The page, or where to send the browser instead (a relative URL). */
  page(source: string | null): { html: string } | { redirect: string };
}

export class UnknownSource extends Error {
  readonly known: readonly string[];
  constructor(source: string, known: readonly string[]) {
    super(`no source "${source}" in this process`);
    this.known = known;
  }
}

export interface HttpListener {
  /** Base URL, e.g. http://127.0.0.1:9187 (the bound port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHttpListener(address: ListenAddress, routes: HttpRoutes): Promise<HttpListener> {
  const server: Server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    const send = (status: number, contentType: string, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, value: unknown): void => send(status, 'application/json; charset=utf-8', JSON.stringify(value));
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'only GET\n');
    const params = new URLSearchParams(query);
    const source = params.get('source');
    try {
      switch (path) {
        case '/metrics':
          routes.metrics().then(
            ({ contentType, body }) => send(200, contentType, body),
            (err: Error) => send(500, 'text/plain', `metrics failed: ${err.message}\n`),
          );
          return;
        case '/healthz': {
          const live = routes.liveness(source);
          return json(live.ok ? 200 : 503, live.ok ? { status: 'ok' } : { status: 'wedged', reasons: live.reasons });
        }
        case '/readyz': {
          const ready = routes.readiness(source, { standbyIsReady: params.getAll('exclude').includes('standby') });
          return json(ready.ok ? 200 : 503, { ready: ready.ok, reasons: ready.reasons });
        }
        case '/status': {
          const { code, body } = routes.status(source);
          return json(code, body);
        }
        case '/':
        case '/index.html': {
          const page = routes.page(source);
          if ('redirect' in page) return send(302, 'text/plain', `see ${page.redirect}\n`, { location: page.redirect });
          return send(200, 'text/html; charset=utf-8', page.html);
        }
        default:
          return send(404, 'text/plain', 'not found: try /, /status, /metrics, /healthz, /readyz\n');
      }
    } catch (err) {
      if (err instanceof UnknownSource) return json(404, { error: err.message, sources: err.known });
      send(500, 'text/plain', `${(err as Error).message}\n`);
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(address, err)));
    server.listen(address.port, address.host, () => resolve());
  });
  server.unref();
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listenError(address: ListenAddress, err: NodeJS.ErrnoException): Error {
  const where = `${address.host}:${address.port}`;
  if (err.code === 'EADDRINUSE') {
    return new OperatorError(`cannot listen on ${where} for HTTP: the port is in use`, {
      hint: 'stop what uses it, or set http.listen to another host:port (or false for no listener) in the main file',
      cause: err,
    });
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EACCES') {
    return new OperatorError(`cannot listen on ${where} for HTTP: ${err.code}`, {
      hint: 'set http.listen to an address of this host (127.0.0.1:9187, or 0.0.0.0:9187 for every interface), and a port above 1023 unless running as root',
      cause: err,
    });
  }
  return err;
}
