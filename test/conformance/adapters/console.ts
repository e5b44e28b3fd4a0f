/**
 * The console sink in the conformance suite: it writes to the stdout of the
 * slotline process, so what it holds is the stdout of every process of the
 * run (workers and replays), one JSON line per record. Taking it away means
 * no longer reading the worker's stdout: the pipe fills and its writes wait.
 */
import { logContents, type SinkAdapter } from '../adapter.ts';

export function consoleAdapter(): SinkAdapter {
  return {
    type: 'console',
    async start() {},
    async close() {},
    sinkYaml: () => 'output: stdout',
    async read(run) {
      const lines = run.processes.flatMap((p) => p.stdout().split('\n'));
      // The last line of a process killed mid-write may be cut short: it is not in the sink.
      const records = lines.filter((line) => line.startsWith('{')).flatMap((line) => {
        try {
          return [JSON.parse(line) as { value: any }];
        } catch {
          return [];
        }
      });
      return logContents(records.map((r) => r.value));
    },
    async break(run) {
      run.processes.at(-1)!.child.stdout!.pause();
    },
    async restore(run) {
      run.processes.at(-1)!.child.stdout!.resume();
    },
    // A JSON line takes any record: nothing is refused per record.
    badRecord: null,
    operatorError: {
      sinkYaml: (run) => `output: ${JSON.stringify(`/nonexistent-${run.prefix}/changes.jsonl`)}`,
      message: /sink "console" \(console\) cannot open its output file .*: ENOENT/,
      hint: /names a file in a directory that does not exist/,
    },
  };
}
