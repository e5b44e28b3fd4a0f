/**
 * A sink behind its transforms (a decorator, STYLE.md): each write hands the
 * sink the transformed events. Commit marks pass untouched, so the runner
 * still acknowledges a transaction whose events were all dropped or
 * filtered — the checkpoint moves past them — and a whole-transaction sink
 * (Redis) still gets each transaction in one write. A retried write gets the
 * same transformed array again (the Kafka sink resumes a partly sent write
 * by its identity).
 */
import { OperatorError } from '../errors.ts';
import type { Sink, SinkContext } from '../sink.ts';
import type { Transform } from '../route/transforms/transform.ts';
import type { ChangeEvent } from '../types.ts';

export function withTransforms(sink: Sink, transform: Transform | null, context: Pick<SinkContext, 'describeTable'>): Sink {
  if (transform === null) return sink;
  const done = new WeakMap<ChangeEvent[], ChangeEvent[]>();
  return {
    name: sink.name,
    wholeTransactions: sink.wholeTransactions,
    writesAhead: sink.writesAhead,
    writesRecords: sink.writesRecords,
    async start() {
      if (transform.needsRecords && !sink.writesRecords) {
        throw new OperatorError(`sink "${sink.name}": the outbox transform makes records (topic, key, value), which only Kafka and console sinks write`, {
          hint: 'move the outbox transform to a Kafka sink file; keep unwrap, key, mask (and route/filter) on this one',
        });
      }
      await transform.check?.(context.describeTable);
      await sink.start();
    },
    async write(events, info) {
      let out = done.get(events);
      if (out === undefined) {
        out = [];
        for (const event of events) {
          const transformed = transform.apply(event);
          if (transformed !== null) out.push(transformed);
        }
        done.set(events, out);
      }
      // Nothing left to write: resolving acknowledges the commits all the same.
      if (out.length > 0) await sink.write(out, info);
    },
    stop: () => sink.stop(),
  };
}
