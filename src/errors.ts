/**
 * The three kinds of failure every stage reports (STYLE.md, habit 4):
 * - retryable: the same call may succeed later (connection reset, 429/503, broker not available);
 * - operator: a person must act (bad config, auth, missing privilege, wal_level); fail fast with a hint;
 * - record: one event cannot be written (a document the index rejects); dead-letter or fail, by config.
 */
export type ErrorKind = 'retryable' | 'operator' | 'record';

export interface SlotlineErrorOptions {
  cause?: unknown;
  /** One line telling the operator what to do about it. */
  hint?: string;
  /**
   * The same start fails the same way until a person changes the configuration
   * or the server's setup (a config problem, a missing privilege, wal_level):
   * restarting slotline cannot fix it. The CLI exits with EX_CONFIG (78) for it,
   * so a supervisor can tell it from an outage that a restart may outlast.
   */
  permanent?: boolean;
}

export class SlotlineError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly permanent: boolean;

  constructor(kind: ErrorKind, message: string, options: SlotlineErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'SlotlineError';
    this.kind = kind;
    this.hint = options.hint;
    this.permanent = options.permanent === true;
  }

  get retriable(): boolean {
    return this.kind === 'retryable';
  }
}

export class RetryableError extends SlotlineError {
  constructor(message: string, options?: SlotlineErrorOptions) {
    super('retryable', message, options);
    this.name = 'RetryableError';
  }
}

export class OperatorError extends SlotlineError {
  constructor(message: string, options?: SlotlineErrorOptions) {
    super('operator', message, options);
    this.name = 'OperatorError';
  }
}

/**
 * A wrong command line: an unknown option, a missing argument, or an option value
 * that cannot be read (a size, a duration, an LSN, a time, a table name). The same
 * command line fails the same way every time; the CLI exits 2 for it.
 */
export class UsageError extends SlotlineError {
  constructor(message: string, options?: Pick<SlotlineErrorOptions, 'hint' | 'cause'>) {
    super('operator', message, options);
    this.name = 'UsageError';
  }
}

export class RecordError extends SlotlineError {
  /** Index of the failed event in the batch passed to the sink. */
  readonly index: number;
  constructor(message: string, index: number, options?: SlotlineErrorOptions) {
    super('record', message, options);
    this.name = 'RecordError';
    this.index = index;
  }
}

/** Anything unclassified is treated as retryable: losing data is worse than a retry loop. */
export function errorKind(err: unknown): ErrorKind {
  return err instanceof SlotlineError ? err.kind : 'retryable';
}

/** One-line description plus hint, for logs and for the CLI's exit message. */
export function describeError(err: unknown): string {
  if (err instanceof SlotlineError) {
    return err.hint ? `${err.message}\n  hint: ${err.hint}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
