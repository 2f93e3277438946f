import { ExecutionAlreadyExists, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import type { ExecutionStarter } from '../../lambda/aws/startHandler.ts';
import type { FinalizeEvent } from '../../lambda/aws/finalizeHandler.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { CHUNK_RETRIERS, FINALIZE_RETRIER, type Retrier, RUN_TIMEOUT_HOURS, retrierFor } from '../../infra/retryPolicy.ts';
import { checkPayload, History, StatesError } from './serviceLimits.ts';

export type ChunkStep = (state: RunState, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<RunState>;
export type FinalizeStep = (event: FinalizeEvent) => Promise<Summary>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

export interface LocalExecution {
  name: string;
  input: RunState;
  /**
   * Settles with the run's summary (also for a caught chunk failure, as FinalizeFailedRun does; for an execution
   * that handed the run on, its successor's), or rejects when no summary came (finalize failed, a quota or the
   * timeout ended the execution).
   */
  result: Promise<Summary>;
  /** Chunk invocations so far, retries included (not the attempts the worker's concurrency throttled). */
  invocations: number;
  /** Chunk attempts refused as Lambda.TooManyRequestsException (the worker's reserved concurrency was in use). */
  throttled: number;
  /** Set when a chunk failed for good (the execution then ends failed, after the report is written). */
  error?: { Error: string; Cause: string };
  status: ExecutionStatus;
  /** History events so far (see serviceLimits.ts History). */
  events: number;
  /** The largest state passed between states, bytes. */
  maxStateBytes: number;
  /** The execution this one handed the run on to. */
  continuedAs?: string;
  /** The clock's time at start and at the end. */
  startedAt: number;
  stoppedAt?: number;
}

export interface LocalStateMachineOptions {
  chunk: ChunkStep;
  finalize: FinalizeStep;
  /** The Lambda timeout each chunk invocation gets (its context's remaining time). */
  chunkTimeoutMs?: number;
  /** After each chunk (progress display). */
  onChunk?: (state: RunState, execution: LocalExecution) => void;
  /** The clock of the execution timeout (tests: the same compressed clock the chunks see). Default Date.now. */
  now?: () => number;
  /** The state machine's timeout (default the deployed RUN_TIMEOUT_HOURS). */
  timeoutMs?: number;
  /** The worker's reserved concurrency: attempts beyond it fail as Lambda.TooManyRequestsException. Default none. */
  chunkConcurrency?: number;
  /**
   * The Wait state (WaitForPortal): resolves once the clock reaches `until` (epoch ms). Default: a timer for
   * `until - now()`; tests on a compressed clock move their clock instead.
   */
  wait?: (until: number) => Promise<void>;
  /** After an execution ended (EventBridge's "Execution Status Change" in AWS). */
  onEnd?: (execution: LocalExecution) => void | Promise<void>;
}

/** The Lambda's error as Step Functions records it: Error = errorType, Cause = the error JSON. */
function caught(err: unknown): { Error: string; Cause: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  return { Error: e.name, Cause: JSON.stringify({ errorType: e.name, errorMessage: e.message }) };
}

/** States.ALL sees neither (AWS: terminal errors); only the Chunk state has a catcher naming States.DataLimitExceeded. */
const DATA_LIMIT = 'States.DataLimitExceeded';
const RUNTIME = 'States.Runtime';

type TaskResult<T> = { ok: true; value: T } | { ok: false; error: { Error: string; Cause: string } };

/** Ends an execution from anywhere inside it: a quota, the timeout. */
class ExecutionEnded extends Error {
  constructor(
    readonly status: ExecutionStatus,
    readonly error: StatesError,
  ) {
    super(error.message);
  }
}

/**
 * The state machine of infra/workflow.ts played in-process, over the same handlers and the same JSON:
 * Chunk ⟲ until checkpoint.done → Finalize; a checkpoint with `waitUntilIso` (the portal is unreachable) goes
 * through WaitForPortal on this machine's clock (`wait`); a chunk that names `continueAs` hands the run on to a
 * fresh execution of this machine (Continue → Continued); a failed chunk is retried from its input checkpoint by
 * the deployed retriers (infra/retryPolicy.ts; retries follow at once, the intervals are not waited out), then
 * caught into `error`, the rest of the file reported skipped (SkipRest ⟲) and finalized; Finalize is retried by its retrier. It enforces the service quotas
 * (payloads ≤ 256 KiB as States.DataLimitExceeded, 25,000 history events, the run timeout on `now`) and, when
 * given, the worker's reserved concurrency. Names are unique like Step Functions execution names, so a
 * duplicate start is rejected with ExecutionAlreadyExists.
 */
export class LocalStateMachine implements ExecutionStarter {
  readonly executions = new Map<string, LocalExecution>();
  private running = 0;

  constructor(private readonly options: LocalStateMachineOptions) {}

  private get now(): () => number {
    return this.options.now ?? Date.now;
  }

  async startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string }> {
    if (this.executions.has(input.name)) {
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
    }
    checkPayload(input.input, 'the execution input');
    // JSON in, JSON out between states, exactly as in AWS (no shared object references).
    const state = JSON.parse(input.input) as RunState;
    const execution: LocalExecution = {
      name: input.name,
      input: state,
      invocations: 0,
      throttled: 0,
      status: 'RUNNING',
      events: 0,
      maxStateBytes: 0,
      startedAt: this.now(),
      result: Promise.resolve() as never,
    };
    this.executions.set(input.name, execution);
    execution.result = this.play(state, execution, input.stateMachineArn);
    // The caller awaits `result` when it wants to; an unobserved failure must not crash the process.
    execution.result.catch(() => undefined);
    return { executionArn: `${input.stateMachineArn}:${input.name}` };
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

  private async play(initial: RunState, execution: LocalExecution, arn: string): Promise<Summary> {
    const history = new History();
    const outcome = await this.run(initial, execution, history, arn).then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    execution.events = history.events;
    execution.stoppedAt = this.now();
    if (outcome.ok) execution.status = outcome.value.status;
    else execution.status = outcome.err instanceof ExecutionEnded ? outcome.err.status : 'FAILED';
    await this.options.onEnd?.(execution);
    if (!outcome.ok) throw outcome.err instanceof ExecutionEnded ? outcome.err.error : outcome.err;
    return outcome.value.summary ?? this.summaryOf(execution.continuedAs!);
  }

  /** The definition, state by state (events counted as each state is entered and left). */
  private async run(
    initial: RunState,
    execution: LocalExecution,
    history: History,
    arn: string,
  ): Promise<{ status: ExecutionStatus; summary?: Summary }> {
    const step = new Steps(this, execution, history);
    history.add(1); // ExecutionStarted
    let state = initial;
    // The first Chunk runs unconditionally, like the definition (chunk.next(loop)).
    for (;;) {
      const chunk = await step.chunk(state);
      if (!chunk.ok) return step.skipRest(state, chunk.error);
      state = chunk.value;
      this.options.onChunk?.(state, execution);
      step.pass(2); // Done? (Choice)
      if (state.checkpoint.done) return step.finalize(state);
      if (state.checkpoint.waitUntilIso !== undefined) await step.wait(state.checkpoint.waitUntilIso);
      step.pass(2); // Continue? (Choice)
      if (state.continueAs) return step.continueAs(state, arn);
    }
  }

  /** WaitForPortal: until the timestamp on this machine's clock (a time in the past goes on at once, as in AWS). */
  async waitUntil(iso: string): Promise<void> {
    const until = Date.parse(iso);
    if (Number.isNaN(until)) throw new StatesError('States.Runtime', `the Wait state's TimestampPath holds no ISO 8601 timestamp: ${iso}`);
    if (this.options.wait) return this.options.wait(until);
    const ms = until - this.now();
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** One chunk attempt: refused as throttled when the worker's reserved concurrency is in use. */
  async invokeChunk(state: RunState, remaining: () => number, execution: LocalExecution): Promise<RunState> {
    const limit = this.options.chunkConcurrency;
    if (limit !== undefined && this.running >= limit) {
      execution.throttled += 1;
      await new Promise((resolve) => setImmediate(resolve));
      throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
    }
    this.running += 1;
    execution.invocations += 1;
    try {
      return await this.options.chunk(state, { getRemainingTimeInMillis: remaining });
    } finally {
      this.running -= 1;
    }
  }

  finalizeStep(event: FinalizeEvent): Promise<Summary> {
    return this.options.finalize(event);
  }

  checkTimeout(execution: LocalExecution): void {
    const limit = this.options.timeoutMs ?? RUN_TIMEOUT_HOURS * 3600_000;
    if (this.now() - execution.startedAt > limit) {
      throw new ExecutionEnded('TIMED_OUT', new StatesError('States.Timeout', `the execution ran past its ${limit} ms timeout`));
    }
  }

  get chunkTimeoutMs(): number {
    return this.options.chunkTimeoutMs ?? 15 * 60_000;
  }
}

/** The states of one execution, each counting its history events and checking payloads and the timeout. */
class Steps {
  constructor(
    private readonly machine: LocalStateMachine,
    private readonly execution: LocalExecution,
    private readonly history: History,
  ) {}

  /** A state that is only entered and left (Choice, Succeed, Fail…). */
  pass(events: number): void {
    this.machine.checkTimeout(this.execution);
    this.guard(() => this.history.add(events));
  }

  /** A Task: retried by `retriers` (attempts counted per retrier, afresh each time the state is entered). */
  async task<I, O>(
    retriers: readonly Retrier[],
    input: I,
    invoke: (input: I, remaining: () => number) => Promise<O>,
    opts: { catchesDataLimit?: boolean } = {},
  ): Promise<TaskResult<O>> {
    this.pass(1); // TaskStateEntered
    const retries = retriers.map(() => 0);
    for (;;) {
      this.pass(3); // TaskScheduled, TaskStarted, TaskSucceeded | TaskFailed
      try {
        const json = this.payload(input, 'the task input');
        const deadline = Date.now() + this.machine.chunkTimeoutMs;
        const output = roundTrip(await invoke(JSON.parse(json) as I, () => deadline - Date.now()));
        this.payload(output, 'the task output');
        this.pass(1); // TaskStateExited
        return { ok: true, value: output };
      } catch (err) {
        const error = caught(err);
        if (err instanceof ExecutionEnded) throw err;
        if (error.Error === RUNTIME || (error.Error === DATA_LIMIT && !opts.catchesDataLimit)) {
          throw new ExecutionEnded('FAILED', new StatesError(error.Error, (err as Error).message));
        }
        const which = retrierFor(error.Error, retriers);
        if (which !== undefined && retries[which] < retriers[which].maxAttempts) {
          retries[which] += 1;
          continue;
        }
        this.pass(1); // TaskStateExited (caught)
        return { ok: false, error };
      }
    }
  }

  /** The Chunk state (and SkipRest: the same function), with its retriers and the DataLimitExceeded catcher. */
  chunk(state: RunState): Promise<TaskResult<RunState>> {
    return this.task(CHUNK_RETRIERS, state, (s, remaining) => this.machine.invokeChunk(s, remaining, this.execution), {
      catchesDataLimit: true,
    });
  }

  /** WaitForPortal (entered, exited), then the timeout check: the wait counts toward the execution's time. */
  async wait(iso: string): Promise<void> {
    this.pass(2);
    await this.guardAsync(() => this.machine.waitUntil(iso));
    this.machine.checkTimeout(this.execution);
  }

  /**
   * The caught chunk failure: SkipRest ⟲ (the chunk with `error`: every row after the checkpoint `skipped`)
   * until done → FinalizeFailedRun → RunFailed. A SkipRest that fails for good goes to FinalizeFailedRun as is.
   */
  async skipRest(state: RunState, error: { Error: string; Cause: string }): Promise<{ status: ExecutionStatus; summary: Summary }> {
    let current = { ...state, error } as RunState;
    for (;;) {
      const skipped = await this.chunk(current);
      if (!skipped.ok) return this.finalizeFailed(current, error);
      current = skipped.value;
      this.pass(2); // Skipped? (Choice)
      if (current.checkpoint.done) return this.finalizeFailed(current, error);
    }
  }

  /** FinalizeFailedRun (the state keeps `error`, the summary lands beside it) → RunFailed. */
  async finalizeFailed(state: RunState, error: { Error: string; Cause: string }): Promise<{ status: ExecutionStatus; summary: Summary }> {
    this.execution.error = error;
    const summary = await this.finalizeTask({ ...state, error });
    this.pass(3); // RunFailed entered, ExecutionFailed
    return { status: 'FAILED', summary };
  }

  /** Finalize → Outcome → Imported, or a Fail state when the run did not import everything. */
  async finalize(state: RunState): Promise<{ status: ExecutionStatus; summary: Summary }> {
    const summary = await this.finalizeTask(state);
    this.pass(2); // Outcome (Choice)
    const incomplete = summary.refused !== undefined || summary.halted !== undefined || summary.cutShort !== undefined;
    this.pass(incomplete ? 2 : 3);
    return { status: incomplete ? 'FAILED' : 'SUCCEEDED', summary };
  }

  /** Continue (StartExecution of this machine with the state) → Continued; a repeated start is the same run. */
  async continueAs(state: RunState, arn: string): Promise<{ status: ExecutionStatus }> {
    const name = state.continueAs!;
    const started = await this.task([{ errors: ['States.ALL'], maxAttempts: 3 }], state, async (input) => {
      await this.machine.startExecution({ stateMachineArn: arn, name, input: JSON.stringify(input) }).catch((err: unknown) => {
        if (!(err instanceof ExecutionAlreadyExists)) throw err;
      });
      return {};
    });
    if (!started.ok) return this.skipRest(state, started.error);
    this.execution.continuedAs = name;
    this.pass(3); // Continued (Succeed) entered and exited, ExecutionSucceeded
    return { status: 'SUCCEEDED' };
  }

  private async finalizeTask(event: FinalizeEvent): Promise<Summary> {
    const result = await this.task([FINALIZE_RETRIER], event, (e) => this.machine.finalizeStep(e));
    if (result.ok) return result.value;
    this.pass(2); // ReportFailed, ExecutionFailed
    throw Object.assign(new Error(result.error.Cause), { name: result.error.Error });
  }

  /** A payload's JSON, checked against the quota; the largest seen is kept for tests. */
  private payload(value: unknown, where: string): string {
    const json = JSON.stringify(value);
    this.execution.maxStateBytes = Math.max(this.execution.maxStateBytes, Buffer.byteLength(json));
    checkPayload(json, where);
    return json;
  }

  private async guardAsync(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof StatesError) throw new ExecutionEnded('FAILED', err);
      throw err;
    }
  }

  /** Quotas end the execution (no Catch sees them). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof StatesError) throw new ExecutionEnded('FAILED', err);
      throw err;
    }
  }
}

function roundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
