/** Exponential backoff with full jitter, capped. */
export interface RetryPolicy {
  initial_delay_ms: number;
  max_delay_ms: number;
}

export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.max_delay_ms, policy.initial_delay_ms * 2 ** Math.min(attempt, 30));
  // Half fixed, half jitter: never hammer a recovering server in lockstep, never wait zero.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
