import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../drill/drill.ts';
import { emptyTableReport } from '../verify/verify-report.ts';
import { formatDrillReport } from './drill.ts';

function report(overrides: Partial<DrillReport>): DrillReport {
  const table = { ...emptyTableReport('public.items'), rows: 3, matched: 3, extrasChecked: true };
  return {
    mode: 'rebuild',
    sink: { name: 'shadow', type: 'elasticsearch', file: '/etc/slotline/shadow.yaml' },
    target: '0/1500',
    snapshot: { consistentPoint: '0/1600', tables: 1, rows: 2, seconds: 0.5 },
    stream: { from: { requested: 'snapshot', lsn: 0x1600n }, transactions: 1, events: 3, firstCommitLsn: 0x1700n, lastCommitLsn: 0x1700n, tables: [{ table: 'public.items', events: 3, ops: { r: 2, c: 1 } }] },
    rebuildSeconds: 1.25,
    verify: {
      sink: { name: 'shadow', type: 'elasticsearch', file: '/etc/slotline/shadow.yaml' }, database: 'app', consistentPoint: '0/1800', startedAt: '2026-12-05T06:00:00.000Z',
      sinkWait: { method: "the drill's stream into the shadow sink (its confirmed position)", caughtUp: true, waitedMs: 0 },
      tables: [table], totals: { rows: 3, matched: 3, missing: 0, stale: 0, extra: 0, inFlight: 0 }, drift: false, notes: [], seconds: 0.2, rowsPerSecond: 15,
    },
    drift: false,
    temporarySlots: ['slotline_drill_abc123_0', 'slotline_drill_abc123_1'],
    seconds: 1.5,
    ...overrides,
  };
}

describe('the drill report', () => {
  it('a rebuild: what was read and streamed, per table and op, the slots dropped, verify, and the verdict', () => {
    const lines = formatDrillReport(report({})).split('\n');
    expect(lines.slice(0, 6)).toEqual([
      'drill into sink "shadow" (elasticsearch, /etc/slotline/shadow.yaml): rebuilt from nothing up to the live position 0/1500 in 1.3 s',
      "  read: 2 rows of 1 table in the temporary slot's snapshot at 0/1600 (0.5 s)",
      '  streamed: 1 transaction from 0/1600 until verify was done, commits 0/1700 … 0/1700',
      '  table                r       c    events',
      '  public.items         2       1         3',
      '  temporary slots slotline_drill_abc123_0, slotline_drill_abc123_1 dropped',
    ]);
    expect(lines[6]).toBe('verify sink shadow (elasticsearch) against database app at 0/1800');
    expect(lines.at(-1)).toBe('drill passed in 1.5 s: the rebuilt sink matches the tables (3 rows, no drift); exit 0');
  });

  it('a replay onto a restored backup with drift: the --from, no read line, and a failed verdict with the counts', () => {
    const drifted = report({
      mode: 'replay', snapshot: null, drift: true, temporarySlots: ['slotline_rewind_replay_abc123_1'],
      stream: { from: { requested: 'rewind', lsn: 0x1400n }, transactions: 0, events: 0, firstCommitLsn: null, lastCommitLsn: null, tables: [] },
    });
    drifted.verify = { ...drifted.verify, drift: true, totals: { ...drifted.verify.totals, matched: 2, missing: 1 } };
    const text = formatDrillReport(drifted);
    expect(text).toMatch(/^drill into sink "shadow" \(elasticsearch, \/etc\/slotline\/shadow\.yaml\): replayed from the rewind slot \(--from rewind, 0\/1400\) up to the live position 0\/1500 in 1\.3 s\n {2}streamed: 0 transactions from 0\/1400 until verify was done\n {2}temporary slot slotline_rewind_replay_abc123_1 dropped\n/);
    expect(text).not.toMatch(/read: /);
    expect(text.split('\n').at(-1)).toBe('drill FAILED in 1.5 s: the rebuilt sink differs from the tables (1 missing, 0 stale, 0 extra); exit 1');
  });
});
