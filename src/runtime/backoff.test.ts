import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';
import { createInFlightBudget } from './in-flight-budget.ts';

describe('backoffDelay', () => {
  const policy = { initial_delay_ms: 100, max_delay_ms: 1000 };
  it.each([
    [0, 0, 50],
    [0, 1, 100],
    [3, 1, 800],
    [10, 1, 1000],
    [10, 0, 500],
  ])('attempt %i with jitter %d waits %i ms', (attempt, jitter, expected) => {
    expect(backoffDelay(policy, attempt, () => jitter)).toBe(expected);
  });
});

describe('in-flight budget', () => {
  it('signals pressure above the limit and relief below half of it', () => {
    const signals: boolean[] = [];
    const budget = createInFlightBudget(100, (over) => signals.push(over));
    budget.add(60);
    budget.add(60);
    expect(signals).toEqual([true]);
    budget.release(30);
    expect(signals).toEqual([true]);
    budget.release(40);
    expect(signals).toEqual([true, false]);
    expect(budget.used).toBe(50);
    expect(budget.peak).toBe(120);
  });
});
