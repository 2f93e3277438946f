import { checkPayload, History, StatesError } from '../serviceLimits.ts';
import { chooseNext, isTimestamp } from './choice.ts';
import { checkDefinition } from './check.ts';
import { type ErrorOutput, errorOutput, runtimeError, UnsupportedConstruct } from './errors.ts';
import { applyTemplate, requirePath, selectPath, writePath } from './paths.ts';
import { firstMatch, maxAttemptsOf, retryDelayMs } from './retry.ts';
import type { Definition, Json, JsonObject, State } from './types.ts';

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

/** A Task's call: the resource and its effective input (after InputPath and Parameters). */
export interface TaskRequest {
  state: string;
  resource: string;
  parameters: Json;
  context: JsonObject;
}

export interface RetryInfo {
  state: string;
  error: string;
  /** 1 = the first retry of this retrier since the state was entered. */
  attempt: number;
  /** The wait the retrier asks for (IntervalSeconds, BackoffRate, MaxDelaySeconds, JitterStrategy). */
  delayMs: number;
}

export interface ExecutionHooks {
  /** Runs a Task's resource; rejects with the error a Retry or Catch matches by `name`. */
  task(request: TaskRequest): Promise<Json>;
  /** The execution's clock (the timeout, Wait states). */
  now(): number;
  /** A Wait state: resolves once the clock reaches `until` (epoch ms). */
  wait(until: number): Promise<void>;
  /** Before a retry: resolves when it may start (the delay is the retrier's). */
  retry(info: RetryInfo): Promise<void>;
  random(): number;
  /** Overrides the definition's TimeoutSeconds. */
  timeoutMs?: number;
  /** A state entered; the history's size; the size of a payload passed between states. */
  onState?(name: string): void;
  onEvents?(events: number): void;
  onPayload?(bytes: number): void;
}

export interface ExecutionIdentity {
  name: string;
  executionArn: string;
  stateMachineArn: string;
  startedAt: number;
}

export interface ExecutionOutcome {
  status: ExecutionStatus;
  output?: Json;
  error?: ErrorOutput;
  events: number;
}

/** Ends the execution from anywhere: a quota, a States.Runtime error, the timeout. No Catch sees it. */
class ExecutionEnded extends Error {
  constructor(
    readonly status: ExecutionStatus,
    readonly error: ErrorOutput,
  ) {
    super(error.Cause);
  }
}

type Step = { next: string; output: Json } | { end: ExecutionStatus; output?: Json; error?: ErrorOutput };

/**
 * One execution of an Amazon States Language definition, state by state: Task (with Retry and Catch), Pass,
 * Choice, Wait, Succeed, Fail, with InputPath, Parameters, ResultSelector, ResultPath and OutputPath. It keeps
 * the service's quotas: payloads ≤ 256 KiB (States.DataLimitExceeded, which a Catch must name), 25,000 history
 * events and the execution timeout (neither caught). History events are counted as the service writes them.
 */
export class AslExecution {
  private readonly history = new History();
  private readonly timeoutMs: number;
  private input: Json = null;

  constructor(
    private readonly definition: Definition,
    private readonly identity: ExecutionIdentity,
    private readonly hooks: ExecutionHooks,
  ) {
    checkDefinition(definition);
    this.timeoutMs = hooks.timeoutMs ?? (definition.TimeoutSeconds ?? 99_999_999) * 1000;
  }

  async run(input: Json): Promise<ExecutionOutcome> {
    this.input = input;
    try {
      this.payload(input, 'the execution input');
      this.events(1); // ExecutionStarted
      return await this.loop(input);
    } catch (err) {
      if (err instanceof ExecutionEnded) {
        this.history.events += 1; // ExecutionFailed / ExecutionTimedOut (past the quota too)
        return { status: err.status, error: err.error, events: this.history.events };
      }
      throw err;
    }
  }

  private async loop(input: Json): Promise<ExecutionOutcome> {
    let name = this.definition.StartAt;
    let data = input;
    for (;;) {
      const step = await this.fatal(() => this.step(name, this.definition.States[name], data));
      if ('end' in step) return { status: step.end, output: step.output, error: step.error, events: this.history.events };
      name = step.next;
      data = step.output;
    }
  }

  private step(name: string, state: State, input: Json): Promise<Step> | Step {
    this.hooks.onState?.(name);
    const context = this.context(name, 0);
    if (state.Type === 'Task') return this.task(name, state, input);
    if (state.Type === 'Wait') return this.waitState(name, state, input, context);
    this.events(state.Type === 'Fail' ? 1 : 2); // …StateEntered (and …StateExited)
    const effective = selectPath(state.InputPath, input, context, 'InputPath');
    if (state.Type === 'Choice')
      return { next: chooseNext(state, effective, context), output: this.output(state, effective, context, name) };
    if (state.Type === 'Pass') return this.pass(name, state, input, effective, context);
    if (state.Type === 'Succeed') {
      this.events(1); // ExecutionSucceeded
      return { end: 'SUCCEEDED', output: this.output(state, effective, context, name) };
    }
    return { end: 'FAILED', error: this.failure(state, input, context) };
  }

  private pass(name: string, state: State, input: Json, effective: Json, context: JsonObject): Step {
    const parameters = state.Parameters !== undefined ? applyTemplate(state.Parameters, effective, context) : effective;
    const result = state.Result !== undefined ? state.Result : parameters;
    return this.transition(name, state, writePath(state.ResultPath, input, result), context);
  }

  private async waitState(name: string, state: State, input: Json, context: JsonObject): Promise<Step> {
    this.events(1); // WaitStateEntered
    const effective = selectPath(state.InputPath, input, context, 'InputPath');
    await this.hooks.wait(this.waitUntil(state, effective, context));
    this.events(1); // WaitStateExited (the wait counts toward the execution's time)
    return this.transition(name, state, effective, context);
  }

  /** When a Wait state ends, epoch ms: Seconds(Path) from now, or the Timestamp(Path) (RFC 3339). */
  private waitUntil(state: State, effective: Json, context: JsonObject): number {
    const seconds = state.SecondsPath !== undefined ? requirePath(state.SecondsPath, effective, context, 'SecondsPath') : state.Seconds;
    if (seconds !== undefined) {
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
        throw runtimeError(`Wait Seconds is no whole number ≥ 0: ${seconds}`);
      return this.hooks.now() + seconds * 1000;
    }
    const at = state.TimestampPath !== undefined ? requirePath(state.TimestampPath, effective, context, 'TimestampPath') : state.Timestamp;
    if (!isTimestamp(at)) throw runtimeError(`the Wait state's timestamp is not RFC 3339: ${JSON.stringify(at)}`);
    return Date.parse(at);
  }

  private failure(state: State, input: Json, context: JsonObject): ErrorOutput {
    const text = (fixed: string | undefined, path: string | undefined, field: string) =>
      fixed ?? (path !== undefined ? String(requirePath(path, input, context, field)) : '');
    this.events(1); // ExecutionFailed
    return { Error: text(state.Error, state.ErrorPath, 'ErrorPath'), Cause: text(state.Cause, state.CausePath, 'CausePath') };
  }

  /** A Task: attempts retried by its Retry (counts afresh each time the state is entered), failures caught by its Catch. */
  private async task(name: string, state: State, input: Json): Promise<Step> {
    this.events(1); // TaskStateEntered
    const attempts = (state.Retry ?? []).map(() => 0);
    for (let retries = 0; ; retries++) {
      const context = this.context(name, retries);
      this.events(3); // …Scheduled, …Started, …Succeeded | …Failed
      try {
        const output = await this.attempt(name, state, input, context);
        this.events(1); // TaskStateExited
        return this.after(state, output);
      } catch (err) {
        if (err instanceof ExecutionEnded || err instanceof UnsupportedConstruct) throw err;
        if (err instanceof StatesError && err.name === 'States.Runtime') throw err;
        const error = errorOutput(err);
        const which = firstMatch(error.Error, state.Retry);
        if (which !== undefined && attempts[which] < maxAttemptsOf(state.Retry![which])) {
          const delayMs = retryDelayMs(state.Retry![which], attempts[which], this.hooks.random);
          attempts[which] += 1;
          await this.hooks.retry({ state: name, error: error.Error, attempt: attempts[which], delayMs });
          continue;
        }
        return this.caught(name, state, input, error);
      }
    }
  }

  private async attempt(name: string, state: State, input: Json, context: JsonObject): Promise<Json> {
    const effective = selectPath(state.InputPath, input, context, 'InputPath');
    const parameters = state.Parameters !== undefined ? applyTemplate(state.Parameters, effective, context) : effective;
    this.payload(parameters, `the input of state ${name}`);
    const result = await this.hooks.task({ state: name, resource: state.Resource!, parameters, context });
    this.payload(result, `the result of state ${name}`);
    const selected = state.ResultSelector !== undefined ? applyTemplate(state.ResultSelector, result, context) : result;
    return this.output(state, writePath(state.ResultPath, input, selected), context, name);
  }

  /** The first Catch matching the error, with the error at its ResultPath; none: the execution fails with it. */
  private caught(name: string, state: State, input: Json, error: ErrorOutput): Step {
    const which = firstMatch(error.Error, state.Catch);
    if (which === undefined) throw new ExecutionEnded('FAILED', error);
    const catcher = state.Catch![which];
    this.events(1); // TaskStateExited
    const output = writePath(catcher.ResultPath, input, error as unknown as Json);
    this.payload(output, `the output of state ${name}`);
    return { next: catcher.Next, output };
  }

  private transition(name: string, state: State, result: Json, context: JsonObject): Step {
    return this.after(state, this.output(state, result, context, name));
  }

  /** Next, or End: true (the execution succeeds with the state's output). */
  private after(state: State, output: Json): Step {
    if (state.End !== true) return { next: state.Next!, output };
    this.events(1); // ExecutionSucceeded
    return { end: 'SUCCEEDED', output };
  }

  /** OutputPath applied, and the state's output checked against the payload quota. */
  private output(state: State, value: Json, context: JsonObject, name: string): Json {
    const output = selectPath(state.OutputPath, value, context, 'OutputPath');
    this.payload(output, `the output of state ${name}`);
    return output;
  }

  private payload(value: Json, where: string): void {
    const bytes = checkPayload(JSON.stringify(value), where);
    this.hooks.onPayload?.(bytes);
  }

  /** History events: each is a moment the timeout is checked and the quota counted. */
  private events(n: number): void {
    if (this.hooks.now() - this.identity.startedAt > this.timeoutMs) {
      throw new ExecutionEnded('TIMED_OUT', { Error: 'States.Timeout', Cause: `the execution ran past its ${this.timeoutMs} ms timeout` });
    }
    this.history.add(n);
    this.hooks.onEvents?.(this.history.events);
  }

  /** States errors outside a Task's Retry/Catch (a Choice on a missing path, a payload over the quota) end the execution. */
  private async fatal(fn: () => Promise<Step> | Step): Promise<Step> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StatesError) throw new ExecutionEnded('FAILED', { Error: err.name, Cause: err.message });
      throw err;
    }
  }

  /** The context object ($$): the execution, the state machine, the state entered. */
  private context(state: string, retryCount: number): JsonObject {
    const { name, executionArn, stateMachineArn, startedAt } = this.identity;
    return {
      Execution: { Id: executionArn, Name: name, Input: this.input, StartTime: new Date(startedAt).toISOString() },
      StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop()! },
      State: { Name: state, EnteredTime: new Date(this.hooks.now()).toISOString(), RetryCount: retryCount },
    };
  }
}
