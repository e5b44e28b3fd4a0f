/**
 * Sorts Redis failures into the three kinds (src/errors.ts). Authentication
 * and permission replies, and errors of the apply script itself, need a
 * person; everything else (connection refused or reset, timeouts, LOADING
 * while a restarted server reads its AOF, a replica that is READONLY during a
 * failover) is retried by the runner with backoff, the checkpoint held.
 */
import { OperatorError, RetryableError, SlotlineError } from '../../src/errors.ts';

export function classifyRedisError(err: unknown, doing: string, sinkName: string): SlotlineError {
  if (err instanceof SlotlineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const reply = /^([A-Z]+)\b/.exec(message)?.[1] ?? '';
  if (reply === 'WRONGPASS' || reply === 'NOAUTH' || /invalid password|invalid username-password/i.test(message)) {
    return new OperatorError(`${doing}: Redis refused the credentials: ${message}`, {
      cause: err,
      hint: `check username/password (or the URL's user:password) of sink "${sinkName}" against the server's ACL (ACL LIST / requirepass)`,
      permanent: true,
    });
  }
  if (reply === 'NOPERM') {
    return new OperatorError(`${doing}: the Redis user lacks a permission: ${message}`, {
      cause: err,
      hint: `grant sink "${sinkName}"'s ACL user +get +set +del +unlink +publish +eval +evalsha +script and access to its keys and channels`,
      permanent: true,
    });
  }
  if (reply === 'CROSSSLOT' || reply === 'MOVED' || reply === 'ASK') {
    return new OperatorError(`${doing}: ${message}`, {
      cause: err,
      hint: 'this server is part of a Redis Cluster: list its nodes under `cluster: { nodes: [...] }` in the sink file instead of `url`',
      permanent: true,
    });
  }
  if (/\bscript\b|user_script|@user_function/i.test(message) && /^ERR\b/.test(message)) {
    return new OperatorError(`${doing}: the apply script failed: ${message}`, { cause: err, hint: 'a key the sink writes holds another type, or the server forbids scripts; see the message' });
  }
  return new RetryableError(`${doing}: ${message}`, { cause: err });
}
