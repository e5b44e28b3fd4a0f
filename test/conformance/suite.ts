/**
 * The conformance suite (STYLE.md: "one conformance suite that every sink
 * passes"): every behaviour in ./behaviours/, run against one sink through its
 * adapter (./adapters/). One test file per sink calls it, so that a sink's
 * private server is started once and the sinks run in parallel.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { SinkAdapter } from './adapter.ts';
import { badRecordHandling, operatorErrorStops } from './behaviours/errors.ts';
import { orderPerKey } from './behaviours/order.ts';
import { outageWithBoundedMemory } from './behaviours/outage.ts';
import { harmlessReplay } from './behaviours/replay.ts';
import { atLeastOnceAcrossSigkill } from './behaviours/sigkill.ts';

export function conformance(adapter: SinkAdapter): void {
  describe(`sink conformance: ${adapter.type}`, () => {
    beforeAll(() => adapter.start());
    afterAll(() => adapter.close(), 120_000);
    atLeastOnceAcrossSigkill(adapter);
    orderPerKey(adapter);
    outageWithBoundedMemory(adapter);
    harmlessReplay(adapter);
    badRecordHandling(adapter);
    operatorErrorStops(adapter);
  });
}
