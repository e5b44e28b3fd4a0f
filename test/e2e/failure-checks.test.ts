/**
 * The delivery checks of the failure tests, on hand-made histories: each rule
 * of at-least-once with replay from the confirmed LSN accepts what it must and
 * names what it must not. A check that cannot fail would make the end-to-end
 * failure tests pass for nothing.
 */
import { describe, expect, it } from 'vitest';
import { analyzeDelivery, deliveredPrefix, perKeyOrder, unconfirmedLoss, type ChangeRecord, type CommittedTx } from './failure-support.ts';

// Three transactions: A = changes #0 #1, B = #2, C = #3 #4.
const TXS: CommittedTx[] = [
  { xid: 'A', endLsn: 0x12n, changes: [0x10n, 0x11n] },
  { xid: 'B', endLsn: 0x21n, changes: [0x20n] },
  { xid: 'C', endLsn: 0x32n, changes: [0x30n, 0x31n] },
];
const LSN_OF = [0x10n, 0x11n, 0x20n, 0x30n, 0x31n];

/** A partition holding the given change numbers in this order (key and event are not looked at here). */
const log = (...changes: number[]): ChangeRecord[] =>
  changes.map((c, offset) => ({ offset, lsn: c < 0 ? 0x99n : LSN_OF[c], op: 'u', key: 1, event: 1 }));

describe('analyzeDelivery', () => {
  const cases: Array<{ name: string; records: ChangeRecord[]; problems: RegExp[]; duplicates?: number; missing?: number }> = [
    { name: 'exactly once', records: log(0, 1, 2, 3, 4), problems: [], duplicates: 0 },
    { name: 'a replay from a transaction boundary', records: log(0, 1, 2, 3, 2, 3, 4), problems: [], duplicates: 2 },
    { name: 'two replays, the second from a later boundary', records: log(0, 1, 2, 0, 1, 2, 3, 2, 3, 4), problems: [], duplicates: 5 },
    { name: 'a replay from inside a transaction', records: log(0, 1, 2, 3, 4, 4), problems: [/inside a transaction/], duplicates: 1 },
    { name: 'a replay from before the previous replay', records: log(0, 1, 2, 3, 2, 3, 0, 1, 2, 3, 4), problems: [/before the previous replay's start #2/] },
    { name: 'a skipped transaction', records: log(0, 1, 3, 4), problems: [/change #3 follows #1: changes skipped/], missing: 1 },
    { name: 'a lost start', records: log(2, 3, 4), problems: [/first record .* is change #2/], missing: 2 },
    { name: 'a lost tail', records: log(0, 1, 2, 3), problems: [], missing: 1 },
    { name: 'a record that is no committed change', records: log(0, 1, -1, 2, 3, 4), problems: [/no committed change/] },
  ];
  it.each(cases)('$name', ({ records, problems, duplicates, missing }) => {
    const report = analyzeDelivery(TXS, records);
    expect(report.problems).toHaveLength(problems.length);
    problems.forEach((pattern, i) => expect(report.problems[i]).toMatch(pattern));
    if (duplicates !== undefined) expect(report.duplicates).toBe(duplicates);
    expect(report.missing).toHaveLength(missing ?? 0);
    expect(report.expected).toBe(5);
  });
});

describe('unconfirmedLoss and deliveredPrefix', () => {
  const cases: Array<{ name: string; records: ChangeRecord[]; confirmed: bigint; lost: number; prefix: number }> = [
    { name: 'confirmed at B, Kafka has A and B', records: log(0, 1, 2), confirmed: 0x21n, lost: 0, prefix: 2 },
    { name: 'confirmed at B, Kafka has A, B and part of C', records: log(0, 1, 2, 3), confirmed: 0x21n, lost: 0, prefix: 2 },
    { name: 'confirmed at B, Kafka lacks B', records: log(0, 1), confirmed: 0x21n, lost: 1, prefix: 1 },
    { name: 'confirmed at A, Kafka has half of A', records: log(0), confirmed: 0x12n, lost: 1, prefix: 0 },
    { name: 'confirmed between A and B (an idle advance)', records: log(0, 1), confirmed: 0x15n, lost: 0, prefix: 1 },
    { name: 'confirmed at C, Kafka lacks B only', records: log(0, 1, 3, 4), confirmed: 0x32n, lost: 1, prefix: 1 },
  ];
  it.each(cases)('$name', ({ records, confirmed, lost, prefix }) => {
    expect(unconfirmedLoss(TXS, records, confirmed)).toHaveLength(lost);
    expect(deliveredPrefix(TXS, records)).toBe(prefix);
  });
});

describe('perKeyOrder', () => {
  /** One key's events in log order. */
  const events = (...list: number[]): ChangeRecord[] => list.map((event, offset) => ({ offset, lsn: BigInt(offset), op: 'u', key: 7, event }));
  const cases: Array<{ name: string; records: ChangeRecord[]; last: number; problems: RegExp[] }> = [
    { name: 'in order', records: events(1, 2, 3), last: 3, problems: [] },
    { name: 'a replayed suffix', records: events(1, 2, 3, 2, 3, 4), last: 4, problems: [] },
    { name: 'a replay of the last event only', records: events(1, 2, 3, 3, 4), last: 4, problems: [] },
    { name: 'a skipped event', records: events(1, 3), last: 3, problems: [/event 3 follows 1/] },
    { name: 'a lost first event', records: events(2, 3), last: 3, problems: [/first event is 2/] },
    { name: 'a replay from before the previous replay', records: events(1, 2, 3, 2, 3, 1, 2, 3), last: 3, problems: [/replay from event 1, before .* 2/] },
    { name: 'a lost last event', records: events(1, 2), last: 3, problems: [/last event in Kafka is 2, the writer's last is 3/] },
    { name: 'a key never written', records: events(1), last: 0, problems: [/in Kafka but never written/] },
  ];
  it.each(cases)('$name', ({ records, last, problems }) => {
    const written = last > 0 ? new Map([[7, last]]) : new Map<number, number>();
    const found = perKeyOrder(records, written);
    expect(found).toHaveLength(problems.length);
    problems.forEach((pattern, i) => expect(found[i]).toMatch(pattern));
  });
});
