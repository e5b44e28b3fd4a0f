/**
 * `slotline snapshot` as an operator runs it: a request is recorded for the
 * worker, and every bad request (unknown sink, table outside the publication,
 * a table no sink routes, no key, a WHERE that does not parse) exits 1 with a
 * clear message and records nothing.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { runSlotline as run, writeConfig } from '../e2e/support.ts';

describe('slotline snapshot', () => {
  let db: FreshDatabase;
  let config: string;
  let slot: string;
  const requests = async (): Promise<any[]> =>
    db.sql("SELECT table_name, status, detail FROM public.slotline_snapshots WHERE kind = 'incremental' ORDER BY table_name").catch(() => []);

  beforeAll(async () => {
    db = await freshDatabase('snap_cli');
    slot = uniqueName('snap_cli');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int); CREATE TABLE public.nokey (n int); CREATE TABLE public.other (id int PRIMARY KEY)');
    await db.sql(`CREATE PUBLICATION pub_snap_cli FOR TABLE public.items, public.nokey`);
    config = await writeConfig({ db, slot, publication: 'pub_snap_cli', topicPrefix: uniqueName('snapcli'), tables: ['public.items', 'public.nokey'] });
    // A second sink that routes only public.nokey.
    await writeFile(join(dirname(config), 'sinks', 'narrow.yaml'), `name: narrow\ntype: console\noutput: /dev/null\ntables: ["public.nokey"]\n`);
  });

  it.each([
    [['--table', 'public.items', '--sink', 'nosuch'], /no sink named "nosuch"/],
    [['--table', 'public.other'], /table public\.other is not in publication "pub_snap_cli"/],
    [['--table', 'public.items', '--sink', 'narrow'], /no named sink routes table public\.items/],
    [['--table', 'public.nokey'], /table public\.nokey has no primary key or unique index/],
    [['--table', 'public.items', '--where', 'nosuchcolumn > 1'], /column "nosuchcolumn" does not exist/],
  ])('exits 1 and records nothing for %j', async (args, message) => {
    const result = await run(['snapshot', '--config', config, ...args]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(await requests()).toEqual([]);
  });

  it('exits 2 without --table', async () => {
    const result = await run(['snapshot', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing --table/);
  });

  it('records a request for the worker, with its sinks and filter', async () => {
    const result = await run(['snapshot', '--config', config, '--table', 'public.items', '--sink', 'console', '--where', 'n > 0']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/requested a snapshot of public\.items into console where n > 0/);
    expect(await requests()).toEqual([{ table_name: 'public.items', status: 'running', detail: { sinks: ['console'], where: 'n > 0' } }]);
  });
});
