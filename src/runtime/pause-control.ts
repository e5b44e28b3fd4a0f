/**
 * Why the replication socket is not read. Several reasons may hold at once —
 * the in-flight ceiling, a catalog look-up, a stop in progress — and the
 * socket reads again only when none does.
 */
export type PauseReason = 'budget' | 'catalog' | 'stopping';

/** What can be paused: the current replication stream. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface PauseControl {
  /** Adds or removes a reason, then pauses or resumes the current stream to match. */
  set(reason: PauseReason, on: boolean): void;
  has(reason: PauseReason): boolean;
  /** The reasons in force, for /status and stats. */
  reasons(): PauseReason[];
  /** Applies the reasons in force to a stream that has just started. */
  apply(): void;
}

/**
 * `current`: the stream to pause, or null between sessions (the reasons are
 * then kept for the next one). `resumed`: the last reason went.
 */
export function createPauseControl(current: () => Pausable | null, resumed?: () => void): PauseControl {
  const reasons = new Set<PauseReason>();
  const apply = (): void => {
    if (reasons.size > 0) current()?.pause();
    else current()?.resume();
  };
  return {
    set(reason, on) {
      const before = reasons.size;
      if (on) reasons.add(reason);
      else reasons.delete(reason);
      apply();
      if (before > 0 && reasons.size === 0) resumed?.();
    },
    has: (reason) => reasons.has(reason),
    reasons: () => [...reasons],
    apply,
  };
}
