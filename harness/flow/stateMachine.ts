import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import type { ExecutionStarter } from '../../lambda/aws/startHandler.ts';
import type { FinalizeEvent } from '../../lambda/aws/finalizeHandler.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';

/** Mirrors infra/workflow.ts (test/aws/edge and test/infra/stack check both lists are the same). */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
];
/** A crash or timeout: 2 more attempts. */
export const CHUNK_CRASH_ERRORS = ['Sandbox.Timedout', 'Lambda.Unknown', 'Runtime.ExitError', 'Runtime.OutOfMemory'];
export const CHUNK_CRASH_RETRIES = 2;
/** Errors no retry can fix (configuration, a halted portal, a replaced source…): never retried. */
export const CHUNK_FATAL_ERRORS = [
  'ConfigurationError',
  'RunHaltedError',
  'ObjectChangedError',
  'NoProgressError',
  'FileRefusedError',
  'CsvCutShortError',
];
/** Any other error: 3 more attempts. */
export const CHUNK_OTHER_ERRORS = ['States.TaskFailed'];
export const CHUNK_OTHER_RETRIES = 3;

/** One retrier of the Chunk state: the error names it matches and how many retries it allows. */
export interface Retrier {
  errors: readonly string[];
  maxAttempts: number;
}

/** The Chunk state's retriers in the deployed order (intervals are not played locally: retries follow at once). */
export const CHUNK_RETRIERS: readonly Retrier[] = [
  { errors: LAMBDA_SERVICE_ERRORS, maxAttempts: 500 },
  { errors: CHUNK_CRASH_ERRORS, maxAttempts: CHUNK_CRASH_RETRIES },
  { errors: CHUNK_FATAL_ERRORS, maxAttempts: 0 },
  { errors: CHUNK_OTHER_ERRORS, maxAttempts: CHUNK_OTHER_RETRIES },
];

/**
 * The retrier Step Functions uses for an error name: the first whose list holds the name, or a wildcard
 * (States.ALL matches anything, States.TaskFailed anything but States.Timeout). Undefined = not retried.
 */
export function retrierFor(errorName: string, retriers: readonly Retrier[] = CHUNK_RETRIERS): number | undefined {
  const index = retriers.findIndex(
    (r) =>
      r.errors.includes(errorName) ||
      r.errors.includes('States.ALL') ||
      (r.errors.includes('States.TaskFailed') && errorName !== 'States.Timeout'),
  );
  return index < 0 ? undefined : index;
}

export type ChunkStep = (state: RunState, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<RunState>;
export type FinalizeStep = (event: FinalizeEvent) => Promise<Summary>;

export interface LocalExecution {
  name: string;
  input: RunState;
  /** Settles with the summary (also for a caught chunk failure, as FinalizeFailedRun does), or rejects if finalize fails. */
  result: Promise<Summary>;
  /** Chunk invocations so far, retries included. */
  invocations: number;
  /** Set when a chunk failed for good (the execution then ends failed, after the report is written). */
  error?: { Error: string; Cause: string };
}

export interface LocalStateMachineOptions {
  chunk: ChunkStep;
  finalize: FinalizeStep;
  /** The Lambda timeout each chunk invocation gets (its context's remaining time). */
  chunkTimeoutMs?: number;
  /** After each chunk (progress display). */
  onChunk?: (state: RunState, execution: LocalExecution) => void;
}

/** The Lambda's error as Step Functions records it: Error = errorType, Cause = the error JSON. */
function caught(err: unknown): { Error: string; Cause: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  return { Error: e.name, Cause: JSON.stringify({ errorType: e.name, errorMessage: e.message }) };
}

/**
 * The state machine of infra/workflow.ts played in-process, over the same handlers and the same JSON:
 * Chunk ⟲ until checkpoint.done → Finalize; a failed chunk is retried from its input checkpoint by the same
 * retriers (crash 2×, fatal never, any other error 3×), then caught into `error` and finalized. Names are unique like Step Functions execution names, so a
 * duplicate start is rejected with ExecutionAlreadyExists.
 */
export class LocalStateMachine implements ExecutionStarter {
  readonly executions = new Map<string, LocalExecution>();

  constructor(private readonly options: LocalStateMachineOptions) {}

  async startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string }> {
    if (this.executions.has(input.name)) {
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
    }
    // JSON in, JSON out between states, exactly as in AWS (no shared object references).
    const state = JSON.parse(input.input) as RunState;
    const execution: LocalExecution = { name: input.name, input: state, invocations: 0, result: Promise.resolve() as never };
    execution.result = this.run(state, execution);
    // The caller awaits `result` when it wants to; an unobserved failure must not crash the process.
    execution.result.catch(() => undefined);
    this.executions.set(input.name, execution);
    return { executionArn: `${input.stateMachineArn}:${input.name}` };
  }

  /** Resolves when every execution started so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.executions.values()].map((e) => e.result));
  }

  private async run(initial: RunState, execution: LocalExecution): Promise<Summary> {
    const timeout = this.options.chunkTimeoutMs ?? 15 * 60_000;
    let state = initial;
    // The first Chunk runs unconditionally, like the definition (chunk.next(loop)).
    do {
      // Step Functions counts attempts per retrier, afresh each time the Chunk state is entered.
      const retries = CHUNK_RETRIERS.map(() => 0);
      for (;;) {
        const deadline = Date.now() + timeout;
        execution.invocations += 1;
        try {
          state = roundTrip(await this.options.chunk(roundTrip(state), { getRemainingTimeInMillis: () => deadline - Date.now() }));
          break;
        } catch (err) {
          const which = retrierFor(caught(err).Error);
          if (which !== undefined && retries[which] < CHUNK_RETRIERS[which].maxAttempts) {
            retries[which] += 1;
            continue;
          }
          execution.error = caught(err);
          return this.options.finalize(roundTrip({ ...state, error: execution.error }));
        }
      }
      this.options.onChunk?.(state, execution);
    } while (!state.checkpoint.done);
    return this.options.finalize(roundTrip(state));
  }
}

function roundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
