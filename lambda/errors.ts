/** Run-level errors. Row problems are RowOutcomes, never exceptions. */

/** The whole file is refused before any row is processed (exit code 2). `code` is stable for callers and tests. */
export class FileRefusedError extends Error {
  override name = 'FileRefusedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The run must stop now (OVERLOAD_LIMIT, bad webhook credentials…); unsent rows are reported `skipped`. */
export class RunHaltedError extends Error {
  override name = 'RunHaltedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The CSV is malformed at `line` (e.g. an unclosed quote): reading stops, earlier rows keep their outcomes. */
export class CsvCutShortError extends Error {
  override name = 'CsvCutShortError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** A whole call failed at the portal (HTTP or REST error). `code` is the portal's `error` ('' for "Not found"). */
export class PortalError extends Error {
  override name = 'PortalError';
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status: number,
  ) {
    super(`${code || 'ERROR'}: ${description} (HTTP ${status})`);
  }
}

/** The deployment is misconfigured (no webhook for a real run, a secret without a URL, a bad variable): no retry helps. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** A run kept making no progress even after it was halted: the chunk loop must stop (see `progressGuard`). */
export class NoProgressError extends Error {
  override name = 'NoProgressError';
  readonly code = 'NO_PROGRESS';
}
