import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import type { ExecutionStarter } from '../../lambda/aws/startHandler.ts';
import type { FinalizeEvent } from '../../lambda/aws/finalizeHandler.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { CHUNK_RETRIERS, retrierFor } from '../../infra/retryPolicy.ts';

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
 * Chunk ⟲ until checkpoint.done → Finalize; a failed chunk is retried from its input checkpoint by the deployed
 * retriers (infra/retryPolicy.ts: crash 2×, fatal never, any other error 3×; retries follow at once, the
 * intervals are not waited out), then caught into `error` and finalized. Names are unique like Step Functions
 * execution names, so a duplicate start is rejected with ExecutionAlreadyExists.
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
