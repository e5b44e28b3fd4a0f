/**
 * The demo's embedded PostgreSQL: when another program holds its port at bind
 * time, it starts again on a new one; it listens on 127.0.0.1 only.
 */
import { chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemoPostgres, type DemoPostgres } from './demo-postgres.ts';
import { reservePort, type ReservedPort } from './local-ports.ts';
import { testTempDir } from '../../test/harness/temp-dirs.ts';

describe('the demo PostgreSQL', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('starts again on a new port when its port is taken at bind time', async () => {
    const heldPort = await reservePort();
    const other = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => other.listen(heldPort.port, '127.0.0.1', resolve));
    cleanup.push(async () => void other.close());
    const dir = await testTempDir('demo-test');
    await chmod(dir, 0o777);

    const handedOut: number[] = [];
    // The first port handed out is the held one, as if another program had bound it after the pick.
    const reserve = async (): Promise<ReservedPort> => {
      const reserved = handedOut.length === 0 ? heldPort : await reservePort();
      handedOut.push(reserved.port);
      return reserved;
    };
    const server: DemoPostgres = await startDemoPostgres(dir, 'secret', reserve);
    cleanup.push(() => server.stop());
    expect(handedOut).toEqual([heldPort.port, server.port]);
    const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', password: 'secret', database: 'postgres' });
    await client.connect();
    const { rows } = await client.query("SELECT current_setting('listen_addresses') AS listen, current_setting('wal_level') AS wal_level");
    await client.end();
    expect(rows).toEqual([{ listen: '127.0.0.1', wal_level: 'logical' }]);
  });
});
