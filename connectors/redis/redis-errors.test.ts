import { describe, expect, it } from 'vitest';
import { errorKind } from '../../src/errors.ts';
import { classifyRedisError } from './redis-errors.ts';

describe('redis error classification', () => {
  it.each([
    ['WRONGPASS invalid username-password pair or user is disabled.', 'operator', 'check username/password'],
    ['NOAUTH Authentication required.', 'operator', 'check username/password'],
    ["NOPERM User cache has no permissions to run the 'evalsha' command", 'operator', '+eval'],
    ["CROSSSLOT Keys in request don't hash to the same slot", 'operator', 'cluster: { nodes'],
    ['connect ECONNREFUSED 127.0.0.1:6390', 'retryable', undefined],
    ['LOADING Redis is loading the dataset in memory', 'retryable', undefined],
    ['Command timed out', 'retryable', undefined],
  ])('%s', (message, kind, hint) => {
    const err = classifyRedisError(new Error(message), 'applying', 'cache');
    expect(errorKind(err)).toBe(kind);
    expect(err.message).toContain(message);
    if (hint) expect(err.hint).toContain(hint);
  });
});
