/**
 * How far V8 lets the heap grow between full collections.
 *
 * After each full collection V8 sets the next one's threshold at what
 * survived times a factor it picks from its GC and mutator speeds: up to 4
 * on a machine with memory to spare. slotline's live heap is small (30-40 MiB
 * of events in flight, catalog and client state while draining a 200 000-row
 * transaction into Kafka, `--trace-gc`), but everything it allocates outlives
 * a scavenge or two, so the old generation refilled to 140-170 MiB before each
 * collection: most of a 250 MiB peak RSS was garbage waiting to be found.
 * At a factor of 1.5 the same drains peaked 80-90 MiB lower for the same CPU
 * per row (docs/kafka-performance.md, step 10): a full collection of a small heap is
 * cheap, and V8 marks it concurrently.
 *
 * Node refuses the flag in NODE_OPTIONS, so the command sets it when it
 * starts. `node --heap-growing-percent=N bin/slotline.js` and
 * SLOTLINE_HEAP_GROWING_PERCENT=N choose another (0: V8's own heuristics).
 */
import { setFlagsFromString } from 'node:v8';
import { OperatorError } from '../errors.ts';

export const DEFAULT_HEAP_GROWING_PERCENT = 50;
const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/** What to set: null when Node's command line already chose, or the choice is V8's own. Throws on a bad variable. */
export function heapGrowingPercentOf(execArgv: readonly string[], variable: string | undefined): number | null {
  if (execArgv.some((arg) => FLAG.test(arg))) return null;
  if (variable === undefined || variable.trim() === '') return DEFAULT_HEAP_GROWING_PERCENT;
  if (!/^\d+$/.test(variable.trim())) {
    throw new OperatorError(`SLOTLINE_HEAP_GROWING_PERCENT is "${variable}": not a whole number of per cent`, {
      hint: `set it to e.g. ${DEFAULT_HEAP_GROWING_PERCENT} (the default), 100 for fewer full collections, or 0 for V8's own heap growth`,
      permanent: true,
    });
  }
  const percent = Number(variable.trim());
  return percent === 0 ? null : percent;
}

/** Sets V8's heap growing factor for this process (see above); returns the percent set, or null. */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, variable = process.env.SLOTLINE_HEAP_GROWING_PERCENT): number | null {
  const percent = heapGrowingPercentOf(execArgv, variable);
  if (percent !== null) setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
