/**
 * Decides the LSN Postgres may forget (DESIGN.md, invariants 1 and 5).
 *
 * Each sink reports the end LSN of the last transaction it has durably written
 * (only at commit boundaries). The confirmable position is the minimum over
 * sinks; when nothing at all is in flight it may also move up to the server's
 * reported WAL end, so an idle slot does not pin WAL. It never moves backwards.
 */
import type { Lsn } from '../lsn.ts';

export interface Checkpointer {
  /** A sink durably has every transaction ending at or before `lsn`. */
  sinkAcked(sink: string, lsn: Lsn): void;
  /** A keepalive said the server has sent everything up to `walEnd`. */
  observeWalEnd(walEnd: Lsn): void;
  /**
   * The position to confirm now, never lower than the last one returned.
   * `idle` must be true only when every received message is processed, no
   * transaction is open, and every sink has acknowledged all it was given.
   */
  confirmable(idle: boolean): Lsn;
  /** Lowest acknowledged position over sinks. */
  watermark(): Lsn;
  /** The sink whose position is the watermark while others are ahead: the one pinning WAL. */
  laggingSink(): string | null;
  /** Per-sink acknowledged positions, for logs and metrics. */
  positions(): ReadonlyMap<string, Lsn>;
}

export function createCheckpointer(sinks: readonly string[], startLsn: Lsn): Checkpointer {
  const acked = new Map<string, Lsn>(sinks.map((name) => [name, startLsn]));
  let confirmed = startLsn;
  let walEnd = startLsn;

  const watermark = (): Lsn => {
    let min: Lsn | null = null;
    for (const lsn of acked.values()) if (min === null || lsn < min) min = lsn;
    return min ?? walEnd;
  };

  return {
    sinkAcked(sink, lsn) {
      const current = acked.get(sink);
      if (current === undefined) throw new Error(`unknown sink "${sink}"`);
      if (lsn > current) acked.set(sink, lsn);
    },
    observeWalEnd(lsn) {
      if (lsn > walEnd) walEnd = lsn;
    },
    confirmable(idle) {
      let next = watermark();
      if (idle && walEnd > next) next = walEnd;
      if (next > confirmed) confirmed = next;
      return confirmed;
    },
    watermark,
    laggingSink() {
      const min = watermark();
      let lagging: string | null = null;
      let ahead = false;
      for (const [name, lsn] of acked) {
        if (lsn === min) lagging ??= name;
        else ahead = true;
      }
      return ahead ? lagging : null;
    },
    positions: () => acked,
  };
}
