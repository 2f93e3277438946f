import { ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidExecutionInput, InvalidName } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import type { ExecutionStarter } from '../../lambda/aws/startHandler.ts';
import type { FinalizeEvent } from '../../lambda/aws/finalizeHandler.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { checkDefinition } from './asl/check.ts';
import { LOCAL_FUNCTIONS, workflowDefinition } from './asl/definition.ts';
import type { ErrorOutput } from './asl/errors.ts';
import { AslExecution, type ExecutionHooks, type ExecutionOutcome, type RetryInfo } from './asl/interpreter.ts';
import { taskRunner } from './asl/tasks.ts';
import type { Definition, Json } from './asl/types.ts';
import { checkPayload, StatesError } from './serviceLimits.ts';

export type ChunkStep = (state: RunState, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<RunState>;
export type FinalizeStep = (event: FinalizeEvent) => Promise<Summary>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

export interface LocalExecution {
  name: string;
  input: RunState;
  /**
   * Settles with the run's summary (the last one the finalize function returned in this execution: Finalize, or
   * FinalizeFailedRun after a caught chunk failure; for an execution that handed the run on, its successor's),
   * or rejects when no summary came (finalize failed, a quota or the timeout ended the execution).
   */
  result: Promise<Summary>;
  /** Chunk invocations so far, retries included (not the attempts the worker's concurrency throttled). */
  invocations: number;
  /** Chunk attempts refused as Lambda.TooManyRequestsException (the worker's reserved concurrency was in use). */
  throttled: number;
  /** Set when a chunk failed for good: the caught error the workflow hands SkipRest and FinalizeFailedRun as `error`. */
  error?: ErrorOutput;
  /** How the execution failed, as DescribeExecution says (a Fail state's Error/Cause, a quota, the timeout). */
  failure?: ErrorOutput;
  status: ExecutionStatus;
  /** History events so far (see asl/interpreter.ts). */
  events: number;
  /** The largest state passed between states, bytes. */
  maxStateBytes: number;
  /** The states entered, in order. */
  states: string[];
  /** The retries the definition's retriers made, with the wait each asked for. */
  retries: RetryInfo[];
  /** The execution this one handed the run on to. */
  continuedAs?: string;
  /** The clock's time at start and at the end. */
  startedAt: number;
  stoppedAt?: number;
}

export interface LocalStateMachineOptions {
  chunk: ChunkStep;
  finalize: FinalizeStep;
  /** The definition to run; default: infra/workflow.ts as the CDK synthesises it (asl/definition.ts). */
  definition?: Definition;
  /** The Lambda timeout each chunk invocation gets (its context's remaining time). */
  chunkTimeoutMs?: number;
  /** After each successful chunk invocation (progress display). */
  onChunk?: (state: RunState, execution: LocalExecution) => void;
  /** The clock of the execution timeout (tests: the same compressed clock the chunks see). Default Date.now. */
  now?: () => number;
  /** The state machine's timeout (default the definition's TimeoutSeconds). */
  timeoutMs?: number;
  /** The worker's reserved concurrency: attempts beyond it fail as Lambda.TooManyRequestsException. Default none. */
  chunkConcurrency?: number;
  /**
   * Wait states (WaitForPortal): resolves once the clock reaches `until` (epoch ms). Default: a timer for
   * `until - now()`; tests on a compressed clock move their clock instead.
   */
  wait?: (until: number) => Promise<void>;
  /** Before each retry, with the delay the retrier asks for. Default: retry at once (the delay is recorded). */
  retryWait?: (retry: RetryInfo) => Promise<void>;
  /** After an execution ended (EventBridge's "Execution Status Change" in AWS). */
  onEnd?: (execution: LocalExecution) => void | Promise<void>;
}

/** What Step Functions refuses in an execution name (1–80 characters). */
const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

const roundTrip = <T>(value: T): Json => JSON.parse(JSON.stringify(value ?? null)) as Json;

/**
 * Step Functions on this machine: executions of the definition the CDK synthesises from infra/workflow.ts,
 * played by the ASL interpreter in asl/ with its Lambda tasks calling the chunk and finalize handlers in process
 * and its Continue task starting an execution of this machine. Retriers, catchers, choices and waits are the
 * definition's; the service quotas (payloads, history events, the timeout on `now`) and, when given, the
 * worker's reserved concurrency hold. Names are unique like execution names: a duplicate start is rejected
 * with ExecutionAlreadyExists.
 */
export class LocalStateMachine implements ExecutionStarter {
  readonly executions = new Map<string, LocalExecution>();
  readonly definition: Definition;
  private running = 0;

  constructor(private readonly options: LocalStateMachineOptions) {
    this.definition = options.definition ?? workflowDefinition();
    checkDefinition(this.definition);
  }

  private get now(): () => number {
    return this.options.now ?? Date.now;
  }

  async startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string }> {
    if (input.name.length < 1 || input.name.length > 80 || INVALID_NAME.test(input.name)) {
      throw new InvalidName({ message: `Invalid Name: '${input.name}'`, $metadata: {} });
    }
    if (this.executions.has(input.name)) {
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
    }
    try {
      checkPayload(input.input, 'the execution input');
    } catch (err) {
      throw new InvalidExecutionInput({ message: (err as Error).message, $metadata: {} });
    }
    const state = JSON.parse(input.input) as RunState;
    const execution: LocalExecution = {
      name: input.name,
      input: state,
      invocations: 0,
      throttled: 0,
      status: 'RUNNING',
      events: 0,
      maxStateBytes: 0,
      states: [],
      retries: [],
      startedAt: this.now(),
      result: Promise.resolve() as never,
    };
    this.executions.set(input.name, execution);
    const executionArn = `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`;
    execution.result = this.play(execution, executionArn, input.stateMachineArn, JSON.parse(input.input) as Json);
    // The caller awaits `result` when it wants to; an unobserved failure must not crash the process.
    execution.result.catch(() => undefined);
    return { executionArn };
  }

  /** DescribeExecution's status (ExecutionDoesNotExist for an unknown name). */
  async describeExecution(input: { name: string }): Promise<{ status: ExecutionStatus }> {
    const execution = this.executions.get(input.name);
    if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.name}'`, $metadata: {} });
    return { status: execution.status };
  }

  /** Resolves when every execution started so far, and every one they started, has settled. */
  async settled(): Promise<void> {
    for (let size = -1; size !== this.executions.size; ) {
      size = this.executions.size;
      await Promise.allSettled([...this.executions.values()].map((e) => e.result));
    }
  }

  /** The run's summary through every execution it continued in (waits for a queued run's execution to start). */
  async summaryOf(name: string, waitMs = 600_000): Promise<Summary> {
    for (const until = Date.now() + waitMs; !this.executions.has(name); ) {
      if (Date.now() > until) throw new Error(`no execution named ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.executions.get(name)!.result;
  }

  /** Runs one execution to its end; settles with its summary (or its successor's). */
  private async play(execution: LocalExecution, executionArn: string, stateMachineArn: string, input: Json): Promise<Summary> {
    const run = new ExecutionRun(this, this.options, execution);
    const asl = new AslExecution(
      this.definition,
      { name: execution.name, executionArn, stateMachineArn, startedAt: execution.startedAt },
      run.hooks(),
    );
    const outcome = await asl.run(input).catch(
      (err: unknown): ExecutionOutcome => ({
        status: 'FAILED',
        error: { Error: (err as Error).name, Cause: (err as Error).message },
        events: execution.events,
      }),
    );
    execution.events = outcome.events;
    execution.stoppedAt = this.now();
    execution.status = outcome.status;
    if (outcome.error) execution.failure = outcome.error;
    await this.options.onEnd?.(execution);
    if (run.summary) return run.summary;
    if (outcome.status === 'SUCCEEDED' && execution.continuedAs) {
      // Continued as itself (ExecutionAlreadyExists is caught into Continued): nothing will ever finalize the run.
      if (execution.continuedAs === execution.name) throw new Error(`execution ${execution.name} handed the run on to itself`);
      return this.summaryOf(execution.continuedAs);
    }
    const error = outcome.error ?? { Error: 'States.Runtime', Cause: 'the execution ended without a summary' };
    throw new StatesError(error.Error, error.Cause);
  }

  /** One chunk attempt: refused as throttled when the worker's reserved concurrency is in use. */
  async invokeChunk(state: RunState, execution: LocalExecution): Promise<RunState> {
    const limit = this.options.chunkConcurrency;
    if (limit !== undefined && this.running >= limit) {
      execution.throttled += 1;
      await new Promise((resolve) => setImmediate(resolve));
      throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
    }
    this.running += 1;
    execution.invocations += 1;
    const deadline = Date.now() + (this.options.chunkTimeoutMs ?? 15 * 60_000);
    try {
      return await this.options.chunk(state, { getRemainingTimeInMillis: () => deadline - Date.now() });
    } finally {
      this.running -= 1;
    }
  }
}

/** One execution's side of the machine: its Lambda functions, its clock, its counters. */
class ExecutionRun {
  summary?: Summary;

  constructor(
    private readonly machine: LocalStateMachine,
    private readonly options: LocalStateMachineOptions,
    private readonly execution: LocalExecution,
  ) {}

  hooks(): ExecutionHooks {
    const now = this.options.now ?? Date.now;
    const execution = this.execution;
    return {
      task: taskRunner({
        invokeLambda: (arn, payload) => this.invokeLambda(arn, payload),
        startExecution: (input) => this.continueAs(input),
      }),
      now,
      wait: this.options.wait ?? (async (until) => void (await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - now()))))),
      retry: async (info) => {
        execution.retries.push(info);
        await this.options.retryWait?.(info);
      },
      random: Math.random,
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
      onState: (name) => void execution.states.push(name),
      onEvents: (events) => {
        execution.events = events;
      },
      onPayload: (bytes) => {
        execution.maxStateBytes = Math.max(execution.maxStateBytes, bytes);
      },
    };
  }

  /** The Lambda functions the definition names; the event and the response travel as JSON, as in Lambda. */
  private async invokeLambda(functionArn: string, event: Json): Promise<Json> {
    const payload = roundTrip(event);
    const caught = (payload as { error?: ErrorOutput } | null)?.error;
    if (caught !== undefined) this.execution.error = caught;
    if (functionArn === LOCAL_FUNCTIONS.chunk) {
      const state = roundTrip(await this.machine.invokeChunk(payload as unknown as RunState, this.execution));
      this.options.onChunk?.(state as unknown as RunState, this.execution);
      return state;
    }
    if (functionArn === LOCAL_FUNCTIONS.finalize) {
      const summary = roundTrip(await this.options.finalize(payload as unknown as FinalizeEvent));
      this.summary = summary as unknown as Summary;
      return summary;
    }
    throw Object.assign(new Error(`Function not found: ${functionArn}`), { name: 'Lambda.ResourceNotFoundException' });
  }

  /** Continue: a fresh execution of this machine; one that exists already is the same continuation. */
  private async continueAs(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string }> {
    try {
      const started = await this.machine.startExecution(input);
      this.execution.continuedAs = input.name;
      return started;
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists) this.execution.continuedAs = input.name;
      throw err;
    }
  }
}
