/**
 * What the end-to-end tests share: writing a config for one test file's
 * database and topics, running slotline (in this process, or as a child
 * process that can be SIGKILLed), and reading back what reached Kafka with a
 * real consumer.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Consumer } from 'kafkajs';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { expect } from 'vitest';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig, type SlotlineConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { startWorker, type Worker, type WorkerOverrides } from '../../src/runtime/worker.ts';
import { reportOnTestFailure, runCommand, startChild, type CommandResult } from '../harness/child-process.ts';
import type { FreshDatabase } from '../harness/context.ts';
import { testTempDir } from '../harness/temp-dirs.ts';

export const REPO = resolve(import.meta.dirname, '../..');

export interface ConfigSpec {
  db: FreshDatabase;
  slot: string;
  publication: string;
  topicPrefix: string;
  /** Publication tables; omit for FOR ALL TABLES. */
  tables?: string[];
  /** Kafka brokers; omit for no Kafka sink. */
  brokers?: string[];
  /** Extra top-level YAML text (e.g. `schemas_enable: false`). */
  mainExtra?: string;
  /** Extra keys of the `source` section, one per line without indentation (e.g. `wal_sender_timeout_ms: 4000`). */
  sourceExtra?: string;
  /** Extra keys of the `runtime` section, one per line without indentation (e.g. `max_in_flight_bytes: 64KiB`). */
  runtimeExtra?: string;
  /** Extra keys of the `http` section, one per line without indentation (e.g. `stall_timeout_ms: 2000`). */
  httpExtra?: string;
  /** Extra YAML text for the Kafka sink file. */
  kafkaExtra?: string;
  /** source.heartbeat_interval_ms (default 0: off, so tests see only their own WAL). */
  heartbeatIntervalMs?: number;
  /** runtime.batch_max_events (default: slotline's). */
  batchMaxEvents?: number;
  /** runtime.linger_ms (default: slotline's). */
  lingerMs?: number;
  /** log.level (default: SLOTLINE_TEST_LOG, else warn). */
  logLevel?: string;
  /** The Kafka sink's create_topics.enabled (default true). */
  createTopics?: boolean;
}

/** Extra keys of a section, given one per line without indentation, indented under it. */
const sectionLines = (extra: string | undefined): string =>
  (extra ?? '').split('\n').filter((l) => l.trim() !== '').map((l) => `  ${l}\n`).join('');

/** Writes slotline.yaml and sinks/kafka.yaml into a fresh temp dir; returns the main file's path. */
export async function writeConfig(spec: ConfigSpec): Promise<string> {
  const dir = await testTempDir('e2e');
  await mkdir(join(dir, 'sinks'));
  const tables = spec.tables ? `  tables: [${spec.tables.map((t) => JSON.stringify(t)).join(', ')}]\n` : '';
  await writeFile(
    join(dir, 'slotline.yaml'),
    `source:
  url: ${JSON.stringify(spec.db.databaseUrl)}
  slot: ${spec.slot}
  publication: ${spec.publication}
  create: true
${tables}  status_interval_ms: 1000
  heartbeat_interval_ms: ${spec.heartbeatIntervalMs ?? 0}
  reconnect: { initial_delay_ms: 200, max_delay_ms: 2000 }
${sectionLines(spec.sourceExtra)}topic_prefix: ${spec.topicPrefix}
sinks: sinks/
runtime:
  retry: { initial_delay_ms: 100, max_delay_ms: 2000 }
${spec.batchMaxEvents ? `  batch_max_events: ${spec.batchMaxEvents}\n` : ''}${spec.lingerMs ? `  linger_ms: ${spec.lingerMs}\n` : ''}  shutdown_timeout_ms: 20000
${sectionLines(spec.runtimeExtra)}http:
  listen: "127.0.0.1:0"
${sectionLines(spec.httpExtra)}log:
  level: ${spec.logLevel ?? process.env.SLOTLINE_TEST_LOG ?? 'warn'}
${spec.mainExtra ?? ''}
`,
  );
  if (spec.brokers) {
    await writeFile(
      join(dir, 'sinks', 'kafka.yaml'),
      `name: kafka
type: kafka
brokers: [${spec.brokers.map((b) => JSON.stringify(b)).join(', ')}]
create_topics:
  enabled: ${spec.createTopics ?? true}
${spec.kafkaExtra ?? ''}
`,
    );
  } else {
    await writeFile(join(dir, 'sinks', 'console.yaml'), `name: console\ntype: console\noutput: ${JSON.stringify(join(dir, 'console.jsonl'))}\n`);
  }
  return join(dir, 'slotline.yaml');
}

export async function readConfig(path: string): Promise<SlotlineConfig> {
  return loadConfig(path, { sinkTypes: sinkConfigSchemas() });
}

/**
 * Runs slotline in this process; `stop()` it in the test. Its stop() resolves
 * once run() has ended too (every connection closed), not only the pipeline.
 */
export async function runInProcess(configPath: string, overrides?: WorkerOverrides): Promise<Worker & { running: Promise<void> }> {
  const config = await readConfig(configPath);
  const worker = await startWorker(config, createLogger(config.log.level), overrides);
  const running = worker.run();
  running.catch(() => undefined);
  const stopPipeline = worker.stop;
  const stop = async (reason?: string): Promise<void> => {
    await stopPipeline(reason);
    await running.catch(() => undefined);
  };
  return Object.assign(worker, { running, stop });
}

/**
 * The error startWorker stops with (a sink that cannot start, the publication,
 * the slot: everything before streaming begins), or null when it started (it is stopped again).
 */
export async function startError(configPath: string): Promise<(Error & { hint?: string; kind?: string }) | null> {
  try {
    const worker = await runInProcess(configPath);
    await worker.stop();
    return null;
  } catch (err) {
    return err as Error;
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  /** stdout and stderr, interleaved. */
  output(): string;
}

/**
 * Runs `slotline run` as a child process (so it can be SIGKILLed or heap-capped).
 * If the test fails, its exit and stderr are part of the failure.
 */
export function spawnWorker(configPath: string, options: { heapMb?: number; env?: NodeJS.ProcessEnv } = {}): WorkerProcess {
  const args = [...(options.heapMb ? [`--max-old-space-size=${options.heapMb}`] : []), join(REPO, 'bin', 'slotline.js'), 'run', '--config', configPath];
  const running = startChild('slotline run', process.execPath, args, options.env);
  // A worker that logs at info says where it listens: a failure then shows what it was doing.
  reportOnTestFailure(async () => {
    const address = running.child.exitCode === null ? httpAddress(running.output()) : null;
    if (address === null) return `slotline run (pid ${running.child.pid}): no /status (not running, or not logging at info)`;
    const status = await fetch(`${address}/status`, { signal: AbortSignal.timeout(5_000) })
      .then((response) => response.text())
      .catch((err: unknown) => `unanswered: ${(err as Error).message}`);
    return `slotline run (pid ${running.child.pid}) /status at the failure:\n${status}`;
  });
  return { child: running.child, exited: running.exit.then(({ code, signal }) => code ?? signal ?? -1), output: running.output };
}

/** The HTTP address a worker logged ("http listening", at info); it binds port 0. Null before that line. */
export function httpAddress(output: string): string | null {
  return /"address":"(http:\/\/[^"]+)"[^\n]*"msg":"http listening"/.exec(output)?.[1] ?? null;
}

/** Runs the `slotline` command to its end; if the test fails, the command's exit and stderr are part of the failure. */
export function runSlotline(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand(`slotline ${args[0] ?? ''}`.trim(), process.execPath, [join(REPO, 'bin', 'slotline.js'), ...args], { env: options.env, timeoutMs: options.timeoutMs ?? 60_000 });
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export interface TopicReader {
  records: ConsumedRecord[];
  /** Waits until `done(records)` holds; fails after `timeoutMs` with what was seen. */
  waitFor(done: (records: ConsumedRecord[]) => boolean, timeoutMs?: number): Promise<ConsumedRecord[]>;
  close(): Promise<void>;
}

/** A real consumer (own group, from the beginning) on every topic matching `topics`. */
export async function readTopics(brokers: string[], topics: RegExp): Promise<TopicReader> {
  const kafka = new Kafka({ brokers, clientId: 'slotline-test-reader', logLevel: logLevel.NOTHING });
  const consumer: Consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 100, metadataMaxAge: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics], fromBeginning: true });
  const records: ConsumedRecord[] = [];
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      records.push({ topic, partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
    },
  });
  return {
    records,
    async waitFor(done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(records)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms with ${records.length} records: ${JSON.stringify(records.slice(-3))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return records;
    },
    close: () => consumer.disconnect(),
  };
}

/** Waits for `check()` to be true, polling. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Load {
  /** Stops the load after the transaction in progress; resolves with the number it committed. */
  stop(): Promise<number>;
}

/** Runs `transaction` again and again until stop(): a write load. */
export function repeatUntilStopped(transaction: () => Promise<unknown>): Load {
  let running = true;
  let committed = 0;
  const loop = (async () => {
    while (running) {
      await transaction();
      committed++;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return committed;
    },
  };
}

/** A refused command: exit `code`, on stderr one line matching `line` and a hint matching `hint`, nothing on stdout. */
export function expectOneLineAndHint(result: CommandResult, code: number, line: RegExp, hint: RegExp): void {
  expect(result.code, result.stdout + result.stderr).toBe(code);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(line);
  expect(lines[1]).toMatch(/^ {2}hint: /);
  expect(lines[1]).toMatch(hint);
  expect(result.stdout).toBe('');
}
