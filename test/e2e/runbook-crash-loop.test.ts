/**
 * docs/runbook.md, drill (d): the worker in a crash loop, as `slotline run`
 * child processes against PostgreSQL and Elasticsearch. The slotline
 * commands come from the page itself (runbook-support.ts); the sink file
 * edits (a misspelt key, then on_record_error: dead_letter) mirror the page.
 * - A deploy with a config error: every start exits 78 with the file, line
 *   and key and a hint; `validate` says the same; `status` shows the slot
 *   inactive; after the fix, what was written meanwhile arrives.
 * - A record the index rejects with on_record_error: fail: every start exits
 *   1 with the document, its LSN and a hint, the slot's confirmed position
 *   staying before it; with dead_letter the stream goes on, the record is in
 *   the dead-letter index, and once the row is written again verify finds no
 *   drift.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { runbookDrill, runRunbookCommand, type RunbookDrill } from './runbook-support.ts';
import { eventually, spawnWorker, type WorkerProcess } from './support.ts';
import { confirmedLsn } from './verify-support.ts';

describe('runbook drill (d): the worker in a crash loop', () => {
  let db: FreshDatabase;
  let dir: string;
  let slot: string;
  let index: string;
  let dlq: string;
  let sinkFile: string;
  let drill: RunbookDrill;
  let worker: WorkerProcess | null = null;
  const client = esClient(esNode());
  const documents = async (): Promise<string[]> => [...(await readIndex(client, index)).keys()].sort((a, b) => Number(a) - Number(b));
  /** Runs `slotline run` until it exits by itself; its code and its last two lines. */
  const crash = async (): Promise<{ code: number | string; lines: string[]; output: string }> => {
    const child = spawnWorker(join(dir, 'slotline.yaml'));
    const code = await child.exited;
    return { code, lines: child.output().trimEnd().split('\n').slice(-2), output: child.output() };
  };

  beforeAll(async () => {
    db = await freshDatabase('runbook_crash');
    await db.sql('CREATE TABLE public.orders (id int PRIMARY KEY, total text)');
    const prefix = uniqueName('rbd');
    index = `${prefix}.public.orders`;
    dlq = `${prefix}-dlq`;
    // The index maps total as an integer: a row whose total is not a number is a document it rejects.
    await client.indices.create({ index, mappings: { properties: { total: { type: 'integer' } } } });
    slot = uniqueName('runbook_crash');
    const config = await writeEsConfig({
      db, slot, publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(), tables: ['public.orders'],
      sinkExtra: 'index: "{prefix}.{schema}.{table}"\non_record_error: fail',
    });
    dir = dirname(config);
    sinkFile = join(dir, 'sinks', 'search.yaml');
    drill = await runbookDrill('d');
    expect(drill.commands.map((c) => c[1])).toEqual(['status', 'validate', 'verify']);
  }, 60_000);
  afterAll(async () => {
    if (worker) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await client.close();
  });

  it('a config error after a deploy: exit 78 at every start with file, line and key; after the fix nothing written meanwhile is missing', async () => {
    worker = spawnWorker(join(dir, 'slotline.yaml'));
    await db.sql("INSERT INTO public.orders SELECT i, i::text FROM generate_series(1, 20) i");
    await eventually(async () => (await documents()).length === 20, 60_000, 'the first rows in Elasticsearch');
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    worker = null;

    const good = await readFile(sinkFile, 'utf8');
    await writeFile(sinkFile, `${good}batchh: { max_actions: 500 }\n`);
    const confirmed = await confirmedLsn(db, slot);
    let lastLines: string[] = [];
    for (let start = 0; start < 2; start++) {
      const { code, lines, output } = await crash();
      expect(code, output).toBe(78);
      expect(lines[0]).toMatch(/^slotline run: \S+search\.yaml:\d+:1 batchh: unknown key \(did you mean "batch"\?\)$/);
      expect(lines[1]).toBe('  hint: fix the configuration at the positions above and start again; docs/config.md lists every key');
      lastLines = lines;
    }
    // Written while it is down: the slot keeps it.
    await db.sql("INSERT INTO public.orders SELECT i, i::text FROM generate_series(21, 30) i; UPDATE public.orders SET total = '100' WHERE id = 1");

    // status and validate read the same files: both stop with the worker's two lines.
    for (const command of [0, 1]) {
      const result = await runRunbookCommand(drill, command, dir);
      expect(result.code, result.stdout + result.stderr).toBe(78);
      expect(result.stderr.trimEnd().split('\n').map((l) => l.replace(/^slotline \w+: /, ''))).toEqual(lastLines.map((l) => l.replace(/^slotline run: /, '')));
    }
    expect(await confirmedLsn(db, slot)).toBe(confirmed);

    await writeFile(sinkFile, good);
    expect((await runRunbookCommand(drill, 1, dir)).code).toBe(0);
    worker = spawnWorker(join(dir, 'slotline.yaml'));
    await eventually(async () => (await documents()).length === 30 && (await readIndex(client, index)).get('1')?.total === '100', 60_000, 'the rows written while it was down');
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    worker = null;
  }, 180_000);

  it('a record the index rejects: exit 1 at every start, the slot before it; dead_letter lets the stream go on, and nothing is lost', async () => {
    await db.sql("INSERT INTO public.orders VALUES (42, 'lots')");
    const [{ lsn: afterBad }] = await db.sql('SELECT pg_current_wal_lsn()::text AS lsn');
    await db.sql("INSERT INTO public.orders SELECT i, i::text FROM generate_series(43, 50) i");
    let confirmed: string | null = null;
    for (let start = 0; start < 2; start++) {
      const { code, lines, output } = await crash();
      expect(code, output).toBe(1);
      expect(lines[0]).toMatch(new RegExp(`Elasticsearch rejected document ${index.replace(/\./g, '\\.')}/42 \\(LSN [0-9A-F]+/[0-9A-F]+\\): HTTP 400 .*(document_parsing_exception|mapper_parsing_exception)`));
      expect(lines[1]).toBe('  hint: fix the index mapping or the column, or set on_record_error: dead_letter in the sink file');
      // The slot stays before the rejected row, the same at every start.
      const now = await confirmedLsn(db, slot);
      expect(parseLsn(now!)).toBeLessThan(parseLsn(afterBad));
      if (confirmed !== null) expect(now).toBe(confirmed);
      confirmed = now;
    }
    const status = await runRunbookCommand(drill, 0, dir);
    expect(status.stdout).toMatch(/state +inactive: no worker reads it/);
    expect(status.stdout).toMatch(new RegExp(`confirmed LSN +${confirmed}$`, 'm'));

    // The page's recovery: dead-letter the record, the stream goes on.
    await writeFile(sinkFile, (await readFile(sinkFile, 'utf8')).replace('on_record_error: fail', `on_record_error: dead_letter\ndead_letter_index: ${dlq}`));
    worker = spawnWorker(join(dir, 'slotline.yaml'));
    await eventually(async () => (await documents()).length === 38 && (await readIndex(client, dlq)).size === 1, 60_000, 'rows 43-50 indexed and row 42 dead-lettered');
    expect([...(await readIndex(client, dlq)).values()][0]).toMatchObject({ id: '42', op: 'c', table: 'public.orders' });

    const drift = await runRunbookCommand(drill, 2, dir);
    expect(drift.code, drift.stdout + drift.stderr).toBe(1);
    expect(drift.stdout).toMatch(/^ {2}public\.orders missing: 42\b/m);
    expect(drift.stdout).toMatch(/^DRIFT: 39 rows .* — 1 missing, 0 stale, 0 extra$/m);

    // The row fixed and written again: verify finds no drift.
    await db.sql("UPDATE public.orders SET total = '0' WHERE id = 42");
    await eventually(async () => (await documents()).includes('42'), 60_000, 'row 42 indexed');
    const proved = await runRunbookCommand(drill, 2, dir);
    expect(proved.code, proved.stdout + proved.stderr).toBe(0);
    expect(proved.stdout).toMatch(/^no drift: 39 rows in/m);
  }, 180_000);
});
