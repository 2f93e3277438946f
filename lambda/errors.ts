/**
 * Every error the run itself can throw, in one place. Row problems are RowOutcomes, never exceptions.
 *
 * Each class sets `name` as a string literal rather than relying on the constructor's name: the Lambda
 * bundles are minified, and Step Functions retriers and catches match on the `errorType` Lambda reports,
 * which is `name`. A minified class would report `e` and fall through every retrier (see
 * infra/retryPolicy.ts).
 */

import type { RowOutcome } from './types.ts';

/** Base of every run-level error: a stable `code` that callers switch on, and the underlying `cause`. */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The whole file is refused before any row is processed (exit code 2). */
export class FileRefusedError extends ImportError {
  override name = 'FileRefusedError';
}

/** The run must stop now (OVERLOAD_LIMIT, bad webhook credentials…); unsent rows are reported `skipped`. */
export class RunHaltedError extends ImportError {
  override name = 'RunHaltedError';
}

/** RunHaltedError raised mid-window, with the outcomes of the rows the portal finished before the stop. */
export class SendHaltedError extends RunHaltedError {
  constructor(
    code: string,
    message: string,
    readonly outcomes: RowOutcome[],
  ) {
    super(code, message);
  }
}

/** The CSV is malformed at `line` (e.g. an unclosed quote): reading stops, earlier rows keep their outcomes. */
export class CsvCutShortError extends ImportError {
  override name = 'CsvCutShortError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super('CSV_CUT_SHORT', message);
  }
}

/** A whole call failed at the portal (HTTP or REST error). `code` is the portal's `error` ('' for "Not found"). */
export class PortalError extends ImportError {
  override name = 'PortalError';
  constructor(
    code: string,
    readonly description: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(code, `${code || 'ERROR'}: ${description} (HTTP ${status})`, options);
  }
}

/** A failure after which the write may or may not have been applied (5xx, reset, timeout). */
export class TransientError extends PortalError {
  override name = 'TransientError';
}

/** The request could not be started (or retried) before the caller's deadline. */
export class DeferredError extends PortalError {
  override name = 'DeferredError';
  constructor(message: string) {
    super('DEFERRED', message, 0);
  }
}

/** The portal's limits need a wait that ends past the run's deadline. */
export class DeadlineError extends ImportError {
  override name = 'DeadlineError';
  constructor(readonly waitMs: number) {
    super('DEADLINE', `the portal's limits need a ${Math.ceil(waitMs / 1000)} s wait, past the run's deadline`);
  }
}

/** The deployment is misconfigured (no webhook for a real run, a secret without a URL, a bad variable): no retry helps. */
export class ConfigurationError extends ImportError {
  override name = 'ConfigurationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIGURATION', message, options);
  }
}

/** A run kept making no progress even after it was halted: the chunk loop must stop (see `progressGuard`). */
export class NoProgressError extends ImportError {
  override name = 'NoProgressError';
  constructor(message: string) {
    super('NO_PROGRESS', message);
  }
}

/** The pinned source (S3 object version or local file) was replaced or deleted after the run started. */
export class ObjectChangedError extends ImportError {
  override name = 'ObjectChangedError';
  constructor(
    readonly location: string,
    kind: 'object' | 'file' = 'object',
  ) {
    super(
      'OBJECT_CHANGED',
      kind === 'object' ? `the object changed while being read: ${location}` : `the file changed while the run was reading it: ${location}`,
    );
  }
}

/** The command line is wrong (exit code 2, with the usage hint). */
export class UsageError extends ImportError {
  override name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}
