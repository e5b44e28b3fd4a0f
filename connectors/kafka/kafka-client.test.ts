/**
 * The Kafka client's socket factory: kafkajs' own, plus TCP_NODELAY. Checked
 * against real local servers, plain and TLS (a throw-away CA), since it
 * replaces kafkajs' factory on every connection the sink makes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeServerCert, makeTestCa } from '../../test/harness/tls-certs.ts';
import { noDelaySocket } from './kafka-client.ts';

let dir: string;
let ca: string;
let server: { key: string; cert: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slotline-kafka-socket-'));
  const testCa = await makeTestCa(dir, 'kafka-ca');
  const cert = await makeServerCert(testCa, dir, 'broker', ['127.0.0.1']);
  ca = await readFile(testCa.certFile, 'utf8');
  server = { key: await readFile(cert.keyFile, 'utf8'), cert: await readFile(cert.certFile, 'utf8') };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** An echo server on a free loopback port; resolves with its port. */
async function echoServer(make: (onSocket: (s: net.Socket) => void) => net.Server): Promise<{ port: number; close: () => Promise<void> }> {
  const listener = make((s) => s.pipe(s));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return { port: (listener.address() as net.AddressInfo).port, close: () => new Promise((resolve) => listener.close(() => resolve())) };
}

/** Connects with the factory, writes `text`, and resolves with what came back and the socket. */
async function roundTrip(args: { host: string; port: number; ssl?: tls.ConnectionOptions }, text: string): Promise<{ echoed: string; socket: net.Socket }> {
  let socket!: net.Socket;
  await new Promise<void>((resolve, reject) => {
    socket = noDelaySocket({ ...args, ssl: args.ssl as tls.ConnectionOptions, onConnect: () => resolve() });
    socket.once('error', reject);
  });
  socket.write(text);
  const echoed = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
  socket.destroy();
  return { echoed, socket };
}

describe('the Kafka socket factory', () => {
  it('connects in plain text with Nagle off, as the Java client does', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const echo = await echoServer((onSocket) => net.createServer(onSocket));
    try {
      const { echoed, socket } = await roundTrip({ host: '127.0.0.1', port: echo.port }, 'produce');
      expect(echoed).toBe('produce');
      expect(noDelay.mock.contexts).toContain(socket);
      expect(noDelay.mock.calls[noDelay.mock.contexts.indexOf(socket)]).toEqual([true]);
    } finally {
      await echo.close();
    }
  });

  it('connects over TLS with the given options, checking the broker against the CA, by name and by IP', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const echo = await echoServer((onSocket) => tls.createServer(server, onSocket));
    try {
      // A host name is sent as SNI and checked against the certificate's names.
      const byName = await roundTrip({ host: 'localhost', port: echo.port, ssl: { ca: [ca] } }, 'by name');
      expect(byName.echoed).toBe('by name');
      expect((byName.socket as tls.TLSSocket).authorized).toBe(true);
      expect(noDelay.mock.contexts).toContain(byName.socket);
      // An IP is not a valid SNI name: none is sent, and the certificate's IP entry is checked.
      const byIp = await roundTrip({ host: '127.0.0.1', port: echo.port, ssl: { ca: [ca] } }, 'by ip');
      expect(byIp.echoed).toBe('by ip');
      // Without the CA the broker is refused, as kafkajs' own factory would.
      await expect(roundTrip({ host: 'localhost', port: echo.port, ssl: {} }, 'x')).rejects.toThrow(/self-signed|unable to verify/);
    } finally {
      await echo.close();
    }
  });
});
