import {
  ConfigurationError,
  CsvCutShortError,
  FileRefusedError,
  NoProgressError,
  ObjectChangedError,
  RunHaltedError,
} from '../lambda/errors.ts';

/**
 * The run's retry policy, once, as plain data: infra/workflow.ts turns it into the Step Functions retriers
 * (sfn.RetryProps) and harness/flow/stateMachine.ts plays it in-process (errors and attempts; intervals are
 * not waited out locally).
 */
export interface Retrier {
  /** Error names (the errorType Lambda reports, or a States.* name) this retrier matches. */
  errors: readonly string[];
  /** Retries after the first attempt; 0 = never retried (the error is caught at once). */
  maxAttempts: number;
  intervalSeconds?: number;
  backoffRate?: number;
  maxDelaySeconds?: number;
  /** FULL spreads the waits of concurrent executions (Step Functions' jitterStrategy). */
  jitter?: 'FULL' | 'NONE';
}

/** Errors of the Lambda service itself (throttling included): worth waiting out, they say nothing about the chunk. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
];

/** The chunk's own timeout or crash; a chunk restarts from its input checkpoint, so a retry is safe. */
export const CHUNK_CRASH_ERRORS = ['Sandbox.Timedout', 'Lambda.Unknown', 'Runtime.ExitError', 'Runtime.OutOfMemory'];

/**
 * Errors that no retry can fix: bad configuration (no webhook, a secret without a URL), a portal that halted the
 * run (wrong credentials, OVERLOAD_LIMIT, failed preflight), a source replaced under the run, a run that made no
 * progress even after halting, a refused or malformed file. Read from the classes themselves (`name` is set per
 * instance, so an instance is needed), so a renamed class cannot silently fall through to a retrier.
 */
export const CHUNK_FATAL_ERRORS = [
  new ConfigurationError(''),
  new RunHaltedError('', ''),
  new ObjectChangedError(''),
  new NoProgressError(''),
  new FileRefusedError('', ''),
  new CsvCutShortError(0, ''),
].map((e) => e.name);

/**
 * Any other chunk failure (an S3 5xx outlasting the SDK's retries, a network blip opening the portal): a chunk
 * restarts from its input checkpoint and overwrites the same parts, so a few spaced retries are safe.
 * States.TaskFailed matches every task error except States.Timeout; it comes after the specific retriers,
 * and Step Functions uses only the first retrier that matches, so crash and fatal errors keep their own policy.
 */
export const CHUNK_OTHER_ERRORS = ['States.TaskFailed'];

/** The state machine's timeout, hours (a timeout no Catch sees; runs hand on to a fresh execution well before it). */
export const RUN_TIMEOUT_HOURS = 24;

/** The Chunk state's retriers, in order. */
export const CHUNK_RETRIERS: readonly Retrier[] = [
  // Runs no longer queue by throttling (the start handler's queue runs one at a time): a Lambda service hiccup
  // is waited out for up to ~3 h, few enough attempts that a chunk's retries fit an execution's history and time.
  { errors: LAMBDA_SERVICE_ERRORS, intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 300, maxAttempts: 40, jitter: 'FULL' },
  { errors: CHUNK_CRASH_ERRORS, intervalSeconds: 30, backoffRate: 2, maxAttempts: 2 },
  { errors: CHUNK_FATAL_ERRORS, maxAttempts: 0 },
  { errors: CHUNK_OTHER_ERRORS, intervalSeconds: 10, backoffRate: 2, maxAttempts: 3 },
];

/** Finalize (and FinalizeFailedRun): only the Lambda service and crashes are retried; it rereads the same parts. */
export const FINALIZE_RETRIER: Retrier = {
  errors: [...LAMBDA_SERVICE_ERRORS, ...CHUNK_CRASH_ERRORS],
  intervalSeconds: 5,
  backoffRate: 2,
  maxDelaySeconds: 300,
  maxAttempts: 20,
  jitter: 'FULL',
};

/** Terminal errors no wildcard matches (a retrier or catcher must name them). */
const TERMINAL = new Set(['States.DataLimitExceeded', 'States.Runtime']);

/**
 * The retrier Step Functions uses for an error name: the first whose list holds the name, or a wildcard
 * (States.ALL matches anything, States.TaskFailed anything but States.Timeout; neither matches the terminal
 * States.DataLimitExceeded and States.Runtime). Undefined = not retried.
 */
export function retrierFor(errorName: string, retriers: readonly Pick<Retrier, 'errors'>[] = CHUNK_RETRIERS): number | undefined {
  const wild = !TERMINAL.has(errorName);
  const index = retriers.findIndex(
    (r) =>
      r.errors.includes(errorName) ||
      (wild && r.errors.includes('States.ALL')) ||
      (wild && r.errors.includes('States.TaskFailed') && errorName !== 'States.Timeout'),
  );
  return index < 0 ? undefined : index;
}
