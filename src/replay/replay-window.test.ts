import { describe, expect, it } from 'vitest';
import type { Lsn } from '../lsn.ts';
import type { PgoutputMessage, Relation } from '../types.ts';
import { createReplayWindow, type ReplayWindowOptions } from './replay-window.ts';

const relation: Relation = { relationId: 1, schema: 'public', table: 't', replicaIdentity: 'default', columns: [{ name: 'id', isKey: true, typeOid: 23, typeMod: -1 }] };

/** One transaction's messages: Begin (commit at `commit`, at `timeMs`), one insert, Commit. */
function tx(commit: Lsn, timeMs: number, id: number): Array<[Lsn, PgoutputMessage]> {
  const us = BigInt(timeMs) * 1000n;
  return [
    [commit - 20n, { tag: 'begin', finalLsn: commit, commitTimeUs: us, xid: id }],
    [commit - 10n, { tag: 'insert', relationId: 1, newTuple: [String(id)] }],
    [commit, { tag: 'commit', flags: 0, commitLsn: commit, endLsn: commit + 8n, commitTimeUs: us }],
  ];
}

function run(options: ReplayWindowOptions, feed: Array<[Lsn, PgoutputMessage] | ['keepalive', Lsn]>) {
  const window = createReplayWindow(options);
  const passed: string[] = [];
  const errors: Error[] = [];
  const keepalives: Lsn[] = [];
  const handlers = window.handlers({
    onMessage: (_lsn, m) => passed.push(m.tag === 'insert' ? `insert ${m.newTuple[0]}` : m.tag === 'message' ? `message ${m.prefix}` : m.tag),
    onKeepalive: (walEnd) => keepalives.push(walEnd),
    onError: (err) => errors.push(err),
  });
  for (const item of feed) {
    if (item[0] === 'keepalive') handlers.onKeepalive(item[1] as Lsn, false);
    else handlers.onMessage(item[0], item[1] as PgoutputMessage);
  }
  return { window, passed, errors, keepalives };
}

describe('the replay window', () => {
  it('passes the transactions that commit before --to, and is done at the first one at or after it', () => {
    const { window, passed } = run({ to: 300n, fromTimeMs: null }, [[50n, { tag: 'relation', relation }], ...tx(100n, 1, 1), ...tx(200n, 2, 2), ...tx(300n, 3, 3), ...tx(400n, 4, 4)]);
    expect(passed).toEqual(['relation', 'begin', 'insert 1', 'commit', 'begin', 'insert 2', 'commit']);
    expect(window.isDone).toBe(true);
    expect(window.lastPassedEnd).toBe(208n);
    expect(window.position).toBe(300n);
  });

  it('is done at a keepalive at or past --to, but not inside a transaction', () => {
    const [begin, insert, commit] = tx(100n, 1, 1);
    const { window, passed } = run({ to: 90n, fromTimeMs: null }, [['keepalive', 50n], begin, ['keepalive', 95n], insert, commit]);
    // Begin's commit LSN (100) is past --to (90): nothing passes, and the window is done.
    expect(passed).toEqual([]);
    expect(window.isDone).toBe(true);

    const inside = run({ to: 105n, fromTimeMs: null }, [begin, insert, ['keepalive', 120n], commit, ...tx(200n, 2, 2)]);
    expect(inside.passed).toEqual(['begin', 'insert 1', 'commit']);
    expect(inside.window.isDone).toBe(true);
    expect(inside.keepalives).toEqual([120n]);

    const before = run({ to: 500n, fromTimeMs: null }, [...tx(100n, 1, 1), ['keepalive', 499n]]);
    expect(before.window.isDone).toBe(false);
  });

  it('with a --from time, drops the transactions committed before it, but never a Relation', () => {
    const { passed, window } = run({ to: 1000n, fromTimeMs: 2 }, [...tx(100n, 1, 1), [150n, { tag: 'relation', relation }], ...tx(200n, 2, 2), ...tx(300n, 3, 3)]);
    expect(passed).toEqual(['relation', 'begin', 'insert 2', 'commit', 'begin', 'insert 3', 'commit']);
    expect(window.firstPassed).toEqual({ commitLsn: 200n, commitTimeMs: 2 });
  });

  it('times a non-transactional message by the commit before it, and stops at one past --to', () => {
    const message = (lsn: Lsn): [Lsn, PgoutputMessage] => [lsn, { tag: 'message', transactional: false, lsn, prefix: `at${lsn}`, content: Buffer.alloc(0) }];
    const { passed, window } = run({ to: 400n, fromTimeMs: 2 }, [message(50n), ...tx(100n, 1, 1), message(150n), ...tx(200n, 2, 2), message(250n), message(450n), ...tx(300n, 3, 3)]);
    expect(passed).toEqual(['begin', 'insert 2', 'commit', 'message at250']);
    expect(window.lastPassedEnd).toBe(250n);
    expect(window.isDone).toBe(true);
  });

  it('checks the first transaction once, and passes nothing after an error', () => {
    const seen: Lsn[] = [];
    const { passed, errors } = run(
      { to: 1000n, fromTimeMs: 0, checkFirst: (_ms, lsn) => (seen.push(lsn), new Error('too old')) },
      [...tx(100n, 5, 1), ...tx(200n, 6, 2)],
    );
    expect(seen).toEqual([100n]);
    expect(errors.map((e) => e.message)).toEqual(['too old']);
    expect(passed).toEqual([]);
  });

  it('is never done after an error, also at the keepalive past --to that follows it', () => {
    // The server sends the window's transactions and then, in the same socket read, a
    // keepalive at its end: a done window there made the refused replay exit 0.
    const { window, errors, passed } = run(
      { to: 500n, fromTimeMs: 0, checkFirst: () => new Error('too old') },
      [['keepalive', 50n], ...tx(100n, 5, 1), ...tx(200n, 6, 2), ['keepalive', 500n], ['keepalive', 600n]],
    );
    expect(errors.map((e) => e.message)).toEqual(['too old']);
    expect(passed).toEqual([]);
    expect(window.isDone).toBe(false);
    expect(window.lastPassedEnd).toBeNull();
  });
});
