import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { OperatorError, RecordError, RetryableError } from '../errors.ts';
import type { Sink, WriteInfo } from '../sink.ts';
import type { ChangeEvent } from '../types.ts';
import { createInFlightBudget } from './in-flight-budget.ts';
import { createSinkRunner } from './sink-runner.ts';

// The runner is the subject here; the "sink" is a recorder that can be told to fail.
const event = (lsn: number, size = 10) => ({ lsn: BigInt(lsn), size, op: 'c' }) as unknown as ChangeEvent;

function setup(
  behaviour: (events: ChangeEvent[], call: number) => Promise<void> | void = () => {},
  limits = { events: 3, bytes: 1000 },
  whole: { wholeTransactions: boolean; budgetLimit: number; writesAhead?: boolean } = { wholeTransactions: false, budgetLimit: 10_000 },
) {
  const writes: bigint[][] = [];
  const infos: WriteInfo[] = [];
  const acks: bigint[] = [];
  const fatal: unknown[] = [];
  let calls = 0;
  const sink: Sink = {
    name: 's',
    wholeTransactions: whole.wholeTransactions,
    writesAhead: whole.writesAhead,
    async start() {},
    async write(events, info) {
      writes.push(events.map((e) => e.lsn));
      infos.push(info);
      await behaviour(events, calls++);
    },
    async stop() {},
  };
  const budget = createInFlightBudget(whole.budgetLimit, () => {});
  const runner = createSinkRunner({
    sink,
    batchMaxEvents: limits.events,
    batchMaxBytes: limits.bytes,
    lingerMs: 0,
    retry: { initial_delay_ms: 1, max_delay_ms: 2 },
    budget,
    logger: pino({ level: 'silent' }),
    onAcked: (_name, lsn) => acks.push(lsn),
    onFatal: (err) => fatal.push(err),
  });
  return { runner, writes, infos, acks, fatal, budget };
}

describe('sink runner', () => {
  it('writes in order, in batches within the limits, and acknowledges commit marks after the write', async () => {
    const { runner, writes, acks, budget } = setup();
    [1, 2].forEach((l) => runner.push(event(l)));
    runner.pushCommit(100n - 1n, 100n);
    [3, 4, 5, 6].forEach((l) => runner.push(event(l)));
    runner.pushCommit(200n - 1n, 200n);
    await runner.drained();
    expect(writes.flat()).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(writes.every((w) => w.length <= 3)).toBe(true);
    expect(acks).toEqual([100n, 200n]);
    expect(budget.used).toBe(0);
    expect(runner.idle()).toBe(true);
  });

  it('tells the sink which transactions end in each write', async () => {
    const { runner, infos } = setup();
    [1, 2].forEach((l) => runner.push(event(l)));
    runner.pushCommit(90n, 100n);
    [3, 4, 5].forEach((l) => runner.push(event(l)));
    runner.pushCommit(190n, 200n);
    await runner.drained();
    expect(infos.map((i) => i.commits)).toEqual([[{ commitLsn: 90n, endLsn: 100n }], [{ commitLsn: 190n, endLsn: 200n }]]);
  });

  it('splits batches by bytes', async () => {
    const { runner, writes } = setup(() => {}, { events: 100, bytes: 25 });
    [1, 2, 3, 4, 5].forEach((l) => runner.push(event(l, 10)));
    runner.pushCommit(9n - 1n, 9n);
    await runner.drained();
    expect(writes).toEqual([[1n, 2n], [3n, 4n], [5n]]);
  });

  it('does not acknowledge a commit until the events before it are written', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { runner, acks } = setup(() => gate);
    runner.push(event(1));
    runner.pushCommit(100n - 1n, 100n);
    await new Promise((r) => setTimeout(r, 20));
    expect(acks).toEqual([]);
    expect(runner.idle()).toBe(false);
    release();
    await runner.drained();
    expect(acks).toEqual([100n]);
  });

  it('retries a retryable failure with the same batch, then goes on', async () => {
    const { runner, writes, acks, fatal } = setup((_e, call) => {
      if (call < 2) throw new RetryableError('broker not available');
    });
    runner.push(event(1));
    runner.push(event(2));
    runner.pushCommit(50n - 1n, 50n);
    await runner.drained();
    expect(writes).toEqual([[1n, 2n], [1n, 2n], [1n, 2n]]);
    expect(acks).toEqual([50n]);
    expect(fatal).toEqual([]);
  });

  it('stops on an operator error without acknowledging', async () => {
    const { runner, acks, fatal } = setup(() => {
      throw new OperatorError('TOPIC_AUTHORIZATION_FAILED');
    });
    runner.push(event(1));
    runner.pushCommit(50n - 1n, 50n);
    await runner.drained();
    expect(acks).toEqual([]);
    expect((fatal[0] as Error).message).toBe('TOPIC_AUTHORIZATION_FAILED');
    // The failed batch is no longer queued, but it is not written either: the
    // pipeline must not take the runner for idle and confirm the WAL end past it.
    expect(runner.idle()).toBe(false);
  });

  it('releases drain waiters when a write fails for good, though items remain queued', async () => {
    const { runner, fatal } = setup(() => {
      throw new RecordError('document rejected', 0);
    }, { events: 1, bytes: 1000 });
    [1, 2, 3].forEach((l) => runner.push(event(l)));
    runner.pushCommit(9n - 1n, 9n);
    await runner.drained();
    expect(fatal).toHaveLength(1);
  });

  describe('whole transactions', () => {
    const wholeSetup = (budgetLimit = 10_000, limits = { events: 3, bytes: 1000 }) =>
      setup(() => {}, limits, { wholeTransactions: true, budgetLimit });
    const settle = () => new Promise((r) => setTimeout(r, 20));

    it('ends batches only at commit marks, even past the batch limits', async () => {
      const { runner, writes, infos, acks } = wholeSetup();
      [1, 2].forEach((l) => runner.push(event(l)));
      runner.pushCommit(9n, 10n);
      [3, 4, 5, 6, 7].forEach((l) => runner.push(event(l)));
      runner.pushCommit(19n, 20n);
      [8].forEach((l) => runner.push(event(l)));
      runner.pushCommit(29n, 30n);
      await runner.drained();
      // [1,2] fits; [3..7] alone is over 3 events but is one transaction; [8] follows.
      expect(writes).toEqual([[1n, 2n], [3n, 4n, 5n, 6n, 7n], [8n]]);
      expect(infos.map((i) => i.commits.map((c) => c.endLsn))).toEqual([[10n], [20n], [30n]]);
      expect(acks).toEqual([10n, 20n, 30n]);
    });

    it('waits for the commit mark of an unfinished transaction under the cap', async () => {
      const { runner, writes, acks, budget } = wholeSetup();
      [1, 2].forEach((l) => runner.push(event(l)));
      await settle();
      expect(writes).toEqual([]);
      await runner.drained(); // an unfinished tail is not writable work
      expect(runner.idle()).toBe(false);
      runner.push(event(3));
      runner.pushCommit(9n, 10n);
      runner.push(event(4)); // the next transaction's first change stays queued
      await settle();
      expect(writes).toEqual([[1n, 2n, 3n]]);
      expect(acks).toEqual([10n]);
      expect(budget.used).toBe(10);
    });

    it('writes a transaction larger than a quarter of the ceiling in chunks, its commit with the last chunk', async () => {
      // ceiling 200 → cap 50 bytes = 5 events of 10
      const { runner, writes, infos, acks } = wholeSetup(200);
      for (let l = 1; l <= 12; l++) runner.push(event(l));
      await settle();
      expect(writes.flat()).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 1)));
      expect(writes.every((w) => w.reduce((n) => n + 10, 0) <= 50)).toBe(true);
      expect(infos.every((i) => i.commits.length === 0)).toBe(true);
      expect(acks).toEqual([]);
      runner.pushCommit(99n, 100n);
      await runner.drained();
      expect(writes.flat()).toHaveLength(12);
      expect(infos.at(-1)!.commits).toEqual([{ commitLsn: 99n, endLsn: 100n }]);
      expect(acks).toEqual([100n]);
    });

    it('keeps ordinary sinks writing partial transactions', async () => {
      const { runner, writes } = setup();
      [1, 2].forEach((l) => runner.push(event(l)));
      await settle();
      expect(writes).toEqual([[1n, 2n]]);
    });
  });

  describe('writes ahead', () => {
    /** A sink that writes ahead, each write held until the test settles it. */
    const aheadSetup = () => {
      const pending: Array<{ resolve(): void; reject(err: unknown): void }> = [];
      const inFlight = { now: 0, most: 0 };
      const ran = setup(
        () =>
          new Promise<void>((resolve, reject) => {
            inFlight.most = Math.max(inFlight.most, ++inFlight.now);
            const done = () => inFlight.now--;
            pending.push({ resolve: () => (done(), resolve()), reject: (err) => (done(), reject(err)) });
          }),
        { events: 2, bytes: 1000 },
        { wholeTransactions: false, budgetLimit: 10_000, writesAhead: true },
      );
      return { ...ran, pending, inFlight };
    };
    const turn = () => new Promise((r) => setTimeout(r, 5));
    const commit = (runner: ReturnType<typeof setup>['runner'], lsn: bigint) => runner.pushCommit(lsn - 1n, lsn);

    it('hands the sink the next full batch while a write is in flight, never a third, and acknowledges in order', async () => {
      const { runner, writes, acks, pending, inFlight } = aheadSetup();
      for (let l = 1; l <= 6; l++) {
        runner.push(event(l));
        if (l % 2 === 0) commit(runner, BigInt(l * 10));
      }
      await turn();
      expect(writes).toEqual([[1n, 2n], [3n, 4n]]);
      // The second finishes first: nothing is acknowledged before the first.
      pending[1].resolve();
      await turn();
      expect(acks).toEqual([]);
      expect(writes).toHaveLength(2);
      pending[0].resolve();
      await turn();
      expect(acks).toEqual([20n, 40n]);
      expect(writes).toEqual([[1n, 2n], [3n, 4n], [5n, 6n]]);
      pending[2].resolve();
      await runner.drained();
      expect(acks).toEqual([20n, 40n, 60n]);
      expect(inFlight.most).toBe(2);
      expect(runner.idle()).toBe(true);
    });

    it('waits for a full batch before writing ahead, so a live stream still batches', async () => {
      const { runner, writes, pending } = aheadSetup();
      runner.push(event(1));
      await turn();
      expect(writes).toEqual([[1n]]);
      runner.push(event(2));
      await turn();
      expect(writes).toHaveLength(1);
      runner.push(event(3));
      await turn();
      expect(writes).toEqual([[1n], [2n, 3n]]);
      pending.forEach((p) => p.resolve());
      await runner.drained();
    });

    it('after a failure writes the failed write and the one ahead again, in order, and stays busy meanwhile', async () => {
      const { runner, writes, acks, fatal, pending } = aheadSetup();
      for (let l = 1; l <= 4; l++) runner.push(event(l));
      commit(runner, 40n);
      await turn();
      expect(writes).toEqual([[1n, 2n], [3n, 4n]]);
      pending[0].reject(new RetryableError('broker not available'));
      await turn();
      // The one ahead has not settled: nothing is written again yet.
      expect(writes).toHaveLength(2);
      expect(runner.idle()).toBe(false);
      pending[1].reject(new RetryableError('not sent: the write before it failed'));
      await vi.waitFor(() => expect(writes).toEqual([[1n, 2n], [3n, 4n], [1n, 2n]]));
      expect(runner.idle()).toBe(false);
      pending[2].resolve();
      await turn();
      expect(writes).toEqual([[1n, 2n], [3n, 4n], [1n, 2n], [3n, 4n]]);
      expect(acks).toEqual([]);
      pending[3].resolve();
      await runner.drained();
      expect(acks).toEqual([40n]);
      expect(fatal).toEqual([]);
      expect(runner.idle()).toBe(true);
    });

    it('stops on an operator error and acknowledges neither write', async () => {
      const { runner, acks, fatal, pending, budget } = aheadSetup();
      for (let l = 1; l <= 2; l++) runner.push(event(l));
      commit(runner, 20n);
      for (let l = 3; l <= 4; l++) runner.push(event(l));
      commit(runner, 40n);
      await turn();
      pending[1].resolve();
      pending[0].reject(new OperatorError('TOPIC_AUTHORIZATION_FAILED'));
      await runner.drained();
      expect(acks).toEqual([]);
      expect((fatal[0] as Error).message).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(runner.idle()).toBe(false);
      expect(budget.used).toBe(0);
    });

    it('is not used for a sink that asks for whole transactions', async () => {
      const { runner, writes, pending } = (() => {
        const pending: Array<() => void> = [];
        const ran = setup(() => new Promise<void>((resolve) => pending.push(resolve)), { events: 2, bytes: 1000 }, { wholeTransactions: true, budgetLimit: 10_000, writesAhead: true });
        return { ...ran, pending };
      })();
      for (let l = 1; l <= 6; l++) {
        runner.push(event(l));
        if (l % 2 === 0) commit(runner, BigInt(l * 10));
      }
      await turn();
      expect(writes).toHaveLength(1);
      pending[0]();
      await turn();
      expect(writes).toHaveLength(2);
      pending[1]();
      await turn();
      pending[2]();
      await runner.drained();
    });
  });
});
