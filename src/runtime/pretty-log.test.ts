import { describe, expect, it } from 'vitest';
import { formatRecord, prettyDestination } from './pretty-log.ts';
import { createTerminal } from './terminal.ts';

describe('pretty log lines', () => {
  it('time, level word, message, then the fields a person scans for', () => {
    const line = formatRecord({ level: 40, time: Date.UTC(2026, 11, 4, 12, 3, 4, 512), name: 'slotline', sink: 'kafka', retryInMs: 200, err: 'broker down', msg: 'sink write failed; retrying' }, false);
    expect(line).toBe('12:03:04.512 WARN  sink write failed; retrying  sink=kafka retryInMs=200 err="broker down"\n');
  });

  it('keeps a multi-line error (message and hint) readable, indented under the record', () => {
    const line = formatRecord({ level: 50, time: 0, msg: 'pipeline failed', err: 'connecting to Kafka: refused\n  hint: check brokers' }, false);
    expect(line).toBe('00:00:00.000 ERROR pipeline failed  err=connecting to Kafka: refused\n      hint: check brokers\n');
  });

  it('colours only when asked', () => {
    expect(formatRecord({ level: 30, time: 0, msg: 'streaming' }, true)).toContain('\x1b[32mINFO \x1b[0m');
    expect(formatRecord({ level: 30, time: 0, msg: 'streaming' }, false)).not.toContain('\x1b[');
  });

  it('passes a line that is not JSON through', () => {
    const out: string[] = [];
    prettyDestination((t) => out.push(t), false).write('not json\n');
    expect(out).toEqual(['not json\n']);
  });
});

describe('terminal', () => {
  it('writes log lines above the status block and redraws it, so they never interleave', () => {
    let screen = '';
    const terminal = createTerminal({ write: (t: string) => (screen += t) });
    terminal.setStatus(['bar 1', 'bar 2']);
    expect(screen).toBe('\x1b[2Kbar 1\n\x1b[2Kbar 2\n');
    screen = '';
    terminal.write('a log line\n');
    // Up over the two bars, erase both, back up, the log line, then the bars again.
    expect(screen).toBe('\x1b[2A\x1b[2K\n\x1b[2K\n\x1b[2Aa log line\n\x1b[2Kbar 1\n\x1b[2Kbar 2\n');
    screen = '';
    terminal.setStatus([]);
    expect(screen).toBe('\x1b[2A\x1b[2K\n\x1b[2K\n\x1b[2A');
    screen = '';
    terminal.write('plain\n');
    expect(screen).toBe('plain\n');
  });
});
