/**
 * The `http` section: the worker's listener for /metrics, /healthz, /readyz,
 * /status and the status page, and how the worker watches its own slot.
 */
import { z } from 'zod';
import { durationMs } from './schema-parts.ts';

export const DEFAULT_HTTP_PORT = 9187;

export interface ListenAddress {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`, `:port` (every interface) or `port` (loopback). Port 0: any free port. */
export function parseListen(text: string): ListenAddress | { error: string } {
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):)?(\d{1,5})$/.exec(text.trim());
  if (!match) return { error: `"${text}" is not host:port (e.g. 127.0.0.1:${DEFAULT_HTTP_PORT}, 0.0.0.0:${DEFAULT_HTTP_PORT}, :${DEFAULT_HTTP_PORT})` };
  const port = Number(match[3]);
  if (port > 65535) return { error: `port ${port} is out of range (0-65535)` };
  const host = match[1] ?? (match[2] === undefined ? '127.0.0.1' : match[2] === '' ? '0.0.0.0' : match[2]);
  return { host, port };
}

const listen = z
  .union([z.literal(false), z.string(), z.int()], { error: 'expected host:port, :port, a port number, or false' })
  .transform((value, ctx): ListenAddress | false => {
    if (value === false) return false;
    const parsed = parseListen(String(value));
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', input: value, message: parsed.error });
      return z.NEVER;
    }
    return parsed;
  })
  .default({ host: '127.0.0.1', port: DEFAULT_HTTP_PORT })
  .meta({
    description:
      'Address of the HTTP listener (`/metrics`, `/healthz`, `/readyz`, `/status`, the status page at `/`): `host:port`, `:port` for every interface, or `false` for none. The container image listens on `0.0.0.0:9187`. Port 0 picks a free port (logged).',
    docType: 'string | false',
    docDefault: '`127.0.0.1:9187`',
  });

export const httpSchema = z
  .strictObject({
    listen,
    slot_poll_interval_ms: durationMs(
      10_000,
      'How often the slot is read from `pg_replication_slots` on an ordinary connection (retained WAL, `wal_status`, `safe_wal_size`, active).',
      100,
    ),
    stall_timeout_ms: durationMs(
      120_000,
      'Liveness: `/healthz` fails when slotline reads the replication connection but nothing (not even a keepalive) came for this long, or a sink write has not returned for this long. Time paused while the sinks catch up or retry does not count.',
      1_000,
    ),
  })
  .prefault({})
  .describe('HTTP endpoints for operations: Prometheus metrics, health and readiness probes, status JSON and page.');

export type HttpConfig = z.output<typeof httpSchema>;
