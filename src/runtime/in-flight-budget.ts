/**
 * The ceiling on bytes received from the slot but not yet written by every
 * sink (DESIGN.md, invariant 4). Past `limit` the source stops reading the
 * socket; below `limit / 2` it reads again (hysteresis, so it does not flap).
 */
export interface InFlightBudget {
  add(bytes: number): void;
  release(bytes: number): void;
  readonly used: number;
  readonly peak: number;
  /** The ceiling itself. */
  readonly limit: number;
}

export function createInFlightBudget(limit: number, onPressure: (over: boolean) => void): InFlightBudget {
  let used = 0;
  let peak = 0;
  let over = false;
  return {
    add(bytes) {
      used += bytes;
      if (used > peak) peak = used;
      if (!over && used > limit) {
        over = true;
        onPressure(true);
      }
    },
    release(bytes) {
      used -= bytes;
      if (used < 0) used = 0;
      if (over && used <= limit / 2) {
        over = false;
        onPressure(false);
      }
    },
    get used() {
      return used;
    },
    get peak() {
      return peak;
    },
    limit,
  };
}
