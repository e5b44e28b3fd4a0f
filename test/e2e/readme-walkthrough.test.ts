/**
 * The README's "Run it against your database", followed as a new user follows
 * it, on a fresh PostgreSQL 15 and 17: the SQL of "PostgreSQL setup" (as the
 * database's owner, the role's password being the one in the README's
 * DATABASE_URL), then the section's shell lines verbatim — `slotline validate`
 * and `slotline run` on the shipped config/slotline.yaml, from the checkout —
 * with only the host, port and password values pointed at the test's own servers.
 * Everything run is read out of README.md, so the test breaks when the README drifts.
 *
 * What the user depends on: the tables' rows reach Kafka as a snapshot, live
 * changes follow, and SIGTERM stops it with exit 0.
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild, runCommand } from '../harness/child-process.ts';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { freePort } from '../harness/ports.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { fencedBlocks, indentedBlocks, inlineCode, readme, section, shellSteps, type ShellStep } from './readme-walkthrough-support.ts';
import { eventually, readTopics, REPO, type ConsumedRecord } from './support.ts';

const README = readme();
const RUN = section(README, 'Run it against your database');
const SETUP = section(README, 'PostgreSQL setup');

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

/** The README's values with the test's servers in: host and port of PostgreSQL, the Kafka brokers. */
function substitute(step: Extract<ShellStep, { kind: 'export' }>, pg: PgServer, kafka: KafkaServer): string {
  if (step.name === 'DATABASE_URL') {
    const url = new URL(step.value);
    url.hostname = pg.host;
    url.port = String(pg.port);
    return url.toString();
  }
  if (step.name === 'KAFKA_BROKERS') return kafka.brokers.join(',');
  throw new Error(`README exports ${step.name}: the walkthrough does not know what to point it at`);
}

/** The SQL a new user runs before the first start: step 1's ALTER SYSTEM and step 2's block, the role's password taken from DATABASE_URL. */
function setupSql(password: string): string[] {
  const alter = inlineCode(SETUP, 'ALTER SYSTEM');
  const blocks = fencedBlocks(SETUP, 'sql');
  expect(alter, 'PostgreSQL setup step 1').toHaveLength(1);
  expect(blocks, 'PostgreSQL setup step 2').toHaveLength(1);
  expect(blocks[0]).toContain("PASSWORD '…'");
  return [alter[0], blocks[0].replace("PASSWORD '…'", `PASSWORD '${password}'`)];
}

interface Change {
  table: string;
  op: string | null;
  key: Record<string, unknown>;
  row: Record<string, unknown> | null;
}

function changes(records: readonly ConsumedRecord[]): Change[] {
  return records.map((r) => {
    const value = r.value === null ? null : JSON.parse(r.value).payload;
    const row = value === null ? null : (value.op === 'd' ? value.before : value.after);
    return { table: r.topic.replace(/^app\.public\./, ''), op: value?.op ?? null, key: JSON.parse(r.key!).payload, row };
  });
}

describe.each([15, 17])('README "Run it against your database" on a fresh PostgreSQL %i', (major) => {
  it('sets up, validates and runs verbatim: the rows as a snapshot, then live changes, then a clean stop', async () => {
    const [pg, kafka] = await Promise.all([startPostgres({ major }), startKafka()]);
    cleanup.push(() => pg.stop(), () => kafka.close());

    const steps = indentedBlocks(RUN).flatMap(shellSteps);
    const exports = steps.filter((s): s is Extract<ShellStep, { kind: 'export' }> => s.kind === 'export');
    const commands = steps.flatMap((s) => (s.kind === 'command' ? [s.argv] : []));
    expect(commands.map((argv) => argv[1])).toEqual(['validate', 'run']);
    const readmeUrl = new URL(exports.find((e) => e.name === 'DATABASE_URL')!.value);
    const database = readmeUrl.pathname.slice(1);

    // The user's database, with the tables the shipped config lists.
    await pg.createDatabase(database);
    await pg.query(`
      CREATE TABLE public.products (id int PRIMARY KEY, name text NOT NULL);
      CREATE TABLE public.orders (id int PRIMARY KEY, product_id int NOT NULL, quantity int NOT NULL);
      INSERT INTO public.products VALUES (1, 'kettle'), (2, 'teapot'), (3, 'mug');
      INSERT INTO public.orders VALUES (1, 1, 2), (2, 3, 6);
    `, [], database);
    const [alterSystem, roleSql] = setupSql(decodeURIComponent(readmeUrl.password));
    await pg.query(alterSystem);
    await pg.restart();
    await pg.query(roleSql, [], database);

    const env: NodeJS.ProcessEnv = {
      ...Object.fromEntries(exports.map((e) => [e.name, substitute(e, pg, kafka)])),
      // The shipped config listens on 127.0.0.1:9187, which other tests and workers on this machine may hold.
      SLOTLINE_HTTP_LISTEN: `127.0.0.1:${await freePort()}`,
    };
    const [validate, run] = commands;
    const validated = await runCommand(validate.join(' '), validate[0], validate.slice(1), { env, cwd: REPO, timeoutMs: 120_000 });
    expect(validated.code, validated.stderr).toBe(0);

    const worker = startChild(run.join(' '), run[0], run.slice(1), env, { cwd: REPO });
    cleanup.push(async () => void worker.child.kill('SIGKILL'));
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    const topics = ['app.public.orders', 'app.public.products'];
    // The sink creates the topics; a consumer resolves its topics when it subscribes.
    let ended = false;
    void worker.exit.then(() => (ended = true));
    await eventually(async () => {
      if (ended) throw new Error(`${run.join(' ')} exited before its topics appeared:\n${worker.output()}`);
      return (await admin.listTopics()).filter((t) => topics.includes(t)).length === topics.length;
    }, 120_000, `topics ${topics.join(', ')}`);
    const reader = await readTopics(kafka.brokers, /^app\.public\.(orders|products)$/);
    cleanup.push(() => reader.close());

    await reader.waitFor((r) => r.length >= 5, 120_000);
    const snapshot = changes(reader.records);
    expect(snapshot.filter((c) => c.table === 'products')).toEqual([
      { table: 'products', op: 'r', key: { id: 1 }, row: { id: 1, name: 'kettle' } },
      { table: 'products', op: 'r', key: { id: 2 }, row: { id: 2, name: 'teapot' } },
      { table: 'products', op: 'r', key: { id: 3 }, row: { id: 3, name: 'mug' } },
    ]);
    expect(snapshot.filter((c) => c.table === 'orders')).toEqual([
      { table: 'orders', op: 'r', key: { id: 1 }, row: { id: 1, product_id: 1, quantity: 2 } },
      { table: 'orders', op: 'r', key: { id: 2 }, row: { id: 2, product_id: 3, quantity: 6 } },
    ]);

    await pg.query("INSERT INTO public.orders VALUES (3, 2, 1); UPDATE public.products SET name = 'big teapot' WHERE id = 2", [], database);
    await pg.query('DELETE FROM public.orders WHERE id = 1', [], database);
    await reader.waitFor((r) => r.length >= 9, 60_000);
    // Each table's topic in commit order; the delete's `before` holds the key (replica identity DEFAULT), then a tombstone.
    const live = changes(reader.records.slice(5));
    expect(live.filter((c) => c.table === 'orders').map(({ op, key, row }) => ({ op, key, id: row?.id }))).toEqual([
      { op: 'c', key: { id: 3 }, id: 3 },
      { op: 'd', key: { id: 1 }, id: 1 },
      { op: null, key: { id: 1 }, id: undefined },
    ]);
    expect(live.find((c) => c.table === 'orders' && c.op === 'c')!.row).toEqual({ id: 3, product_id: 2, quantity: 1 });
    expect(live.filter((c) => c.table === 'products')).toEqual([{ table: 'products', op: 'u', key: { id: 2 }, row: { id: 2, name: 'big teapot' } }]);

    worker.child.kill('SIGTERM');
    const exit = await Promise.race([worker.exit, new Promise((resolve) => setTimeout(resolve, 60_000, 'still running 60 s after SIGTERM'))]);
    expect(exit, worker.output()).toEqual({ code: 0, signal: null });
  }, 600_000);
});
