/**
 * Bad input (DESIGN.md, invariant 6):
 * - a record the sink rejects is handled as its sink file's on_record_error
 *   says: `fail` stops the worker naming the record, with a hint, and confirms
 *   nothing past it (a restart meets it again: nothing is lost); `dead_letter`
 *   puts it in the dead-letter destination with its reason, and the stream
 *   goes on. A sink that rejects no record has no on_record_error, and refuses
 *   one in its sink file rather than ignore it;
 * - a setting a person must fix stops the worker with the sink's message and
 *   a hint on the line after it.
 */
import { expect, it } from 'vitest';
import { eventually, readConfig } from '../../e2e/support.ts';
import type { RunningChild } from '../../harness/child-process.ts';
import { slotMade } from '../../harness/context.ts';
import type { SinkAdapter } from '../adapter.ts';
import { confirmedLsn, converged, newRun, spawnWorker, startWorker, stopWorker, walLsn } from '../run.ts';

/** A line matching `message`, then (after the message's own indented lines) a hint line matching `hint`, on stderr of a worker that stopped. */
async function expectStopWithHint(worker: RunningChild, message: RegExp, hint: RegExp): Promise<void> {
  const exit = await worker.exit;
  expect(exit.code === 1 || exit.code === 78, `exit ${exit.code ?? exit.signal}: 1 (a restart may fix it) or 78 (configuration)`).toBe(true);
  const lines = worker.stderr().split('\n');
  const at = lines.findIndex((line) => line.startsWith('slotline run: ') && message.test(line));
  expect(at, `a "slotline run: " line matching ${message}`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(at + 1);
  const hintAt = rest.findIndex((line) => /^ {2}hint: /.test(line));
  expect(hintAt, 'a hint line after the message').toBeGreaterThanOrEqual(0);
  expect(rest.slice(0, hintAt).every((line) => /^\s/.test(line)), 'only the message\'s own indented lines before the hint').toBe(true);
  expect(rest[hintAt]).toMatch(hint);
}

export function badRecordHandling(adapter: SinkAdapter): void {
  const bad = adapter.badRecord;
  if (bad === null) {
    it('has no on_record_error, and refuses one in its sink file', async () => {
      const run = await newRun(adapter, 'bad', { sinkExtra: () => 'on_record_error: dead_letter' });
      await expect(readConfig(run.configPath)).rejects.toThrow(/on_record_error/);
    });
    return;
  }

  it('on_record_error fail: stops at the rejected record with a hint, and confirms nothing past it', async () => {
    const run = await newRun(adapter, 'bad_fail', { sinkExtra: bad.modes.fail });
    await bad.prepare(run);
    const worker = await startWorker(run);
    await run.db.sql('INSERT INTO public.items VALUES (1, 1, $1)', [bad.goodPayload]);
    await converged(adapter, run, 'the first row in the sink', 60_000);
    await run.db.sql('INSERT INTO public.items VALUES (2, 1, $1), (3, 1, $2)', [bad.badPayload, bad.goodPayload]);
    const badEnd = await walLsn(run);
    await expectStopWithHint(worker, bad.fails.message, bad.fails.hint);
    expect(await confirmedLsn(run) < badEnd, 'the slot confirmed past the rejected record').toBe(true);
  }, 120_000);

  const deadLetter = bad.modes.dead_letter;
  if (deadLetter) {
    it('on_record_error dead_letter: dead-letters the rejected record with its reason, and the stream goes on', async () => {
      const run = await newRun(adapter, 'bad_dlq', { sinkExtra: deadLetter });
      await bad.prepare(run);
      const worker = await startWorker(run);
      await run.db.sql('INSERT INTO public.items VALUES (1, 1, $1)', [bad.goodPayload]);
      await run.db.sql('INSERT INTO public.items VALUES (2, 1, $1), (3, 1, $2)', [bad.badPayload, bad.goodPayload]);
      await run.db.sql('INSERT INTO public.items VALUES (4, 1, $1)', [bad.goodPayload]);
      await eventually(async () => {
        const rows = (await adapter.read(run)).rows;
        return rows.size === 3 && (await bad.deadLetters!(run)).length === 1;
      }, 60_000, 'rows 1, 3, 4 in the sink and one dead letter');
      expect([...(await adapter.read(run)).rows.keys()].sort()).toEqual([1, 3, 4]);
      const [letter] = await bad.deadLetters!(run);
      expect(letter.id).toBe(2);
      expect(letter.reason).not.toBe('');
      await stopWorker(worker);
    }, 120_000);
  }
}

export function operatorErrorStops(adapter: SinkAdapter): void {
  it('an operator error stops the worker with a hint', async () => {
    const { message, hint, sinkYaml } = adapter.operatorError;
    const run = await newRun(adapter, 'operator', { sinkYaml });
    const worker = spawnWorker(run);
    // Some sinks meet it only at their first write: give them one.
    await eventually(async () => worker.child.exitCode !== null || (await slotMade(run.db, run.slot)), 60_000, 'the worker to stop or make its slot');
    if (worker.child.exitCode === null) await run.db.sql("INSERT INTO public.items VALUES (1, 1, 'x')");
    await expectStopWithHint(worker, message, hint);
  }, 120_000);
}
