import { describe, expect, it } from 'vitest';
import { AslExecution, type ExecutionHooks, type RetryInfo, type TaskRequest } from '../../../harness/flow/asl/interpreter.ts';
import { retryDelayMs } from '../../../harness/flow/asl/retry.ts';
import type { Definition, Json, State } from '../../../harness/flow/asl/types.ts';
import { MAX_PAYLOAD_BYTES } from '../../../harness/flow/serviceLimits.ts';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function:f';
const named = (name: string, message = name) => Object.assign(new Error(message), { name });

/** Runs `definition` on `input`: tasks answered by `task`, the clock moved by waits; returns what happened. */
async function run(definition: Definition, input: Json, task: (r: TaskRequest) => Promise<Json> | Json = (r) => r.parameters) {
  let clock = Date.parse('2024-03-01T00:00:00Z');
  const retries: RetryInfo[] = [];
  const states: string[] = [];
  const waits: number[] = [];
  const hooks: ExecutionHooks = {
    task: async (r) => task(r),
    now: () => clock,
    wait: async (until) => {
      waits.push(until - clock);
      clock = Math.max(clock, until);
    },
    retry: async (info) => void retries.push(info),
    random: () => 0.5,
    onState: (s) => void states.push(s),
  };
  const identity = {
    name: 'ex',
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:ex',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m',
    startedAt: clock,
  };
  const outcome = await new AslExecution(definition, identity, hooks).run(input);
  return { ...outcome, retries, states, waits };
}

const machine = (States: Record<string, State>, StartAt = Object.keys(States)[0]): Definition => ({ StartAt, States });
const lambdaTask = (fields: Partial<State> = {}): State => ({ Type: 'Task', Resource: FN, End: true, ...fields });

describe('ASL interpreter: paths and data flow', () => {
  it('InputPath, Parameters (with $ and $$ paths), ResultSelector, ResultPath and OutputPath in that order', async () => {
    const seen: Json[] = [];
    const r = await run(
      machine({
        T: lambdaTask({
          InputPath: '$.in',
          Parameters: { 'v.$': '$.v', 'name.$': '$$.Execution.Name', 'first.$': '$$.Execution.Input.in.v', fixed: 1 },
          ResultSelector: { 'got.$': '$.echo' },
          ResultPath: '$.out.result',
          OutputPath: '$.out',
        }),
      }),
      { in: { v: 7 }, keep: true },
      (req) => {
        seen.push(req.parameters);
        return { echo: req.parameters, noise: 'x' };
      },
    );
    expect(seen).toEqual([{ v: 7, name: 'ex', first: 7, fixed: 1 }]);
    expect(r).toMatchObject({ status: 'SUCCEEDED', output: { result: { got: { v: 7, name: 'ex', first: 7, fixed: 1 } } } });
  });

  it('ResultPath null keeps the input; Pass with Result writes it; a missing .$ path is States.Runtime (no Catch sees it)', async () => {
    const kept = await run(
      machine({
        T: lambdaTask({ ResultPath: null, Next: 'P', End: undefined }),
        P: { Type: 'Pass', Result: { r: 1 }, ResultPath: '$.p', End: true },
      }),
      { a: 1 },
      () => ({ dropped: true }),
    );
    expect(kept.output).toEqual({ a: 1, p: { r: 1 } });
    const missing = await run(
      machine({
        T: lambdaTask({ Parameters: { 'x.$': '$.nope' }, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'S' }] }),
        S: { Type: 'Succeed' },
      }),
      {},
    );
    expect(missing.status).toBe('FAILED');
    expect(missing.error?.Error).toBe('States.Runtime');
    expect(missing.states).toEqual(['T']);
  });
});

describe('ASL interpreter: Choice', () => {
  const choice = (rule: Record<string, Json>): Definition =>
    machine({
      C: { Type: 'Choice', Choices: [{ ...rule, Next: 'Yes' }], Default: 'No' },
      Yes: { Type: 'Succeed' },
      No: { Type: 'Succeed' },
    });
  const goes = async (rule: Record<string, Json>, input: Json) => (await run(choice(rule), input)).states[1];

  it('IsPresent, BooleanEquals, StringEquals, Numeric comparisons, timestamps, StringMatches, And / Or / Not', async () => {
    expect(await goes({ Variable: '$.a', IsPresent: true }, { a: null })).toBe('Yes');
    expect(await goes({ Variable: '$.a', IsPresent: true }, {})).toBe('No');
    expect(await goes({ Variable: '$.a.b', BooleanEquals: true }, { a: { b: true } })).toBe('Yes');
    // A value of another type is no match (not an error).
    expect(await goes({ Variable: '$.a', BooleanEquals: true }, { a: 'true' })).toBe('No');
    expect(await goes({ Variable: '$.s', StringEquals: 'x' }, { s: 'x' })).toBe('Yes');
    expect(await goes({ Variable: '$.n', NumericGreaterThan: 2 }, { n: 3 })).toBe('Yes');
    expect(await goes({ Variable: '$.n', NumericLessThanEqualsPath: '$.m' }, { n: 3, m: 3 })).toBe('Yes');
    expect(await goes({ Variable: '$.t', TimestampLessThan: '2024-01-02T00:00:00Z' }, { t: '2024-01-01T23:59:59.5Z' })).toBe('Yes');
    expect(await goes({ Variable: '$.s', StringMatches: 'log-*.txt' }, { s: 'log-2024.txt' })).toBe('Yes');
    const and: Record<string, Json> = {
      And: [{ Variable: '$.n', NumericGreaterThanEquals: 1 }, { Not: { Variable: '$.s', StringEquals: 'x' } }],
    };
    expect(await goes(and, { n: 1, s: 'y' })).toBe('Yes');
    expect(
      await goes(
        {
          Or: [
            { Variable: '$.n', IsNumeric: false },
            { Variable: '$.n', NumericEquals: 5 },
          ],
        },
        { n: 4 },
      ),
    ).toBe('No');
  });

  it('a comparison on a path that is not there fails the execution with States.Runtime, as AWS does', async () => {
    const r = await run(choice({ Variable: '$.checkpoint.done', BooleanEquals: true }), { checkpoint: {} });
    expect(r).toMatchObject({ status: 'FAILED', error: { Error: 'States.Runtime' } });
    expect(r.error?.Cause).toMatch(/\$\.checkpoint\.done/);
  });

  it('no rule and no Default: States.NoChoiceMatched', async () => {
    const r = await run(
      machine({ C: { Type: 'Choice', Choices: [{ Variable: '$.a', IsPresent: true, Next: 'S' }] }, S: { Type: 'Succeed' } }),
      {},
    );
    expect(r.error?.Error).toBe('States.NoChoiceMatched');
  });
});

describe('ASL interpreter: Wait', () => {
  it('Seconds, SecondsPath, Timestamp and TimestampPath on the execution clock; a past timestamp goes on at once', async () => {
    const r = await run(
      machine({
        A: { Type: 'Wait', Seconds: 5, Next: 'B' },
        B: { Type: 'Wait', SecondsPath: '$.s', Next: 'C' },
        C: { Type: 'Wait', TimestampPath: '$.at', Next: 'D' },
        D: { Type: 'Wait', Timestamp: '2000-01-01T00:00:00Z', End: true },
      }),
      { s: 7, at: '2024-03-01T00:01:12Z' },
    );
    expect(r.status).toBe('SUCCEEDED');
    expect(r.waits).toEqual([5000, 7000, 60_000, -(Date.parse('2024-03-01T00:01:12Z') - Date.parse('2000-01-01T00:00:00Z'))]);
  });

  it('a TimestampPath holding no RFC 3339 timestamp is States.Runtime', async () => {
    const r = await run(machine({ W: { Type: 'Wait', TimestampPath: '$.at', End: true } }), { at: 'tomorrow' });
    expect(r.error?.Error).toBe('States.Runtime');
  });
});

describe('ASL interpreter: Retry and Catch', () => {
  it('the first matching retrier is used, its attempts counted afresh; the waits follow IntervalSeconds × BackoffRate^n', async () => {
    const thrown = ['Boom', 'Boom', 'Other', 'Boom'];
    const r = await run(
      machine({
        T: lambdaTask({
          Retry: [
            { ErrorEquals: ['Boom'], IntervalSeconds: 3, BackoffRate: 2, MaxAttempts: 3 },
            { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 1 },
          ],
        }),
      }),
      {},
      () => {
        const next = thrown.shift();
        if (next) throw named(next);
        return 'ok';
      },
    );
    expect(r).toMatchObject({ status: 'SUCCEEDED', output: 'ok' });
    expect(r.retries.map((x) => [x.error, x.attempt, x.delayMs])).toEqual([
      ['Boom', 1, 3000],
      ['Boom', 2, 6000],
      ['Other', 1, 1000],
      ['Boom', 3, 12000],
    ]);
  });

  it('MaxDelaySeconds caps the wait, FULL jitter draws below it, defaults are 1 s × 2', () => {
    expect(retryDelayMs({ ErrorEquals: [], IntervalSeconds: 5, BackoffRate: 2, MaxDelaySeconds: 300 }, 10, () => 1)).toBe(300_000);
    expect(retryDelayMs({ ErrorEquals: [], IntervalSeconds: 5, BackoffRate: 2, JitterStrategy: 'FULL' }, 1, () => 0.25)).toBe(2500);
    expect(retryDelayMs({ ErrorEquals: [] }, 2, () => 1)).toBe(4000);
  });

  it('States.ALL and States.TaskFailed do not catch States.DataLimitExceeded: only a catcher naming it does', async () => {
    const big = () => 'x'.repeat(MAX_PAYLOAD_BYTES);
    const wild = await run(
      machine({ T: lambdaTask({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'S' }] }), S: { Type: 'Succeed' } }),
      {},
      big,
    );
    expect(wild).toMatchObject({ status: 'FAILED', error: { Error: 'States.DataLimitExceeded' } });
    const named = await run(
      machine({
        T: lambdaTask({
          Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 2 }],
          Catch: [{ ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.error', Next: 'S' }],
        }),
        S: { Type: 'Succeed' },
      }),
      { a: 1 },
      big,
    );
    expect(named.retries).toEqual([]);
    expect(named.output).toMatchObject({ a: 1, error: { Error: 'States.DataLimitExceeded' } });
  });

  it('a Lambda error is caught with Error = its name and Cause = the error JSON; MaxAttempts 0 never retries', async () => {
    const r = await run(
      machine({
        T: lambdaTask({
          Retry: [{ ErrorEquals: ['Fatal'], MaxAttempts: 0 }],
          Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.e', Next: 'F' }],
        }),
        F: { Type: 'Fail', ErrorPath: '$.e.Error', CausePath: '$.e.Cause' },
      }),
      {},
      () => {
        throw named('Fatal', 'no way');
      },
    );
    expect(r.retries).toEqual([]);
    expect(r).toMatchObject({
      status: 'FAILED',
      error: { Error: 'Fatal', Cause: JSON.stringify({ errorType: 'Fatal', errorMessage: 'no way' }) },
    });
  });
});

describe('ASL interpreter: quotas and history', () => {
  it('counts history events per state type as the service writes them', async () => {
    // ExecutionStarted 1; Task: entered 1 + 3 per attempt (2 attempts) + exited 1; Choice 2; Pass 2; Succeed 2 + ExecutionSucceeded 1.
    let calls = 0;
    const r = await run(
      machine({
        T: lambdaTask({ End: undefined, Next: 'C', Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1 }] }),
        C: { Type: 'Choice', Choices: [{ Variable: '$', IsPresent: true, Next: 'P' }] },
        P: { Type: 'Pass', Next: 'S' },
        S: { Type: 'Succeed' },
      }),
      {},
      () => {
        if (calls++ === 0) throw named('Once');
        return {};
      },
    );
    expect(r.events).toBe(1 + (1 + 6 + 1) + 2 + 2 + 3);
    // A Fail state: entered + ExecutionFailed.
    expect((await run(machine({ F: { Type: 'Fail', Error: 'E', Cause: 'c' } }), {})).events).toBe(3);
  });

  it("past the definition's TimeoutSeconds the execution times out: States.Timeout, no Catch", async () => {
    const r = await run({ ...machine({ W: { Type: 'Wait', Seconds: 120, Next: 'S' }, S: { Type: 'Succeed' } }), TimeoutSeconds: 60 }, {});
    expect(r).toMatchObject({ status: 'TIMED_OUT', error: { Error: 'States.Timeout' } });
  });

  it('refuses what it does not implement before running anything', async () => {
    const refused = async (definition: Definition) =>
      run(definition, {}).then(
        () => 'ran',
        (e: Error) => e.message,
      );
    expect(await refused(machine({ M: { Type: 'Map', End: true } }))).toMatch(/state type Map/);
    expect(await refused(machine({ T: lambdaTask({ TimeoutSeconds: 5 }) }))).toMatch(/TimeoutSeconds/);
    expect(await refused(machine({ T: lambdaTask({ Resource: 'arn:aws:states:::sqs:sendMessage' }) }))).toMatch(/resource/);
    expect(await refused(machine({ T: lambdaTask({ Parameters: { 'x.$': "States.Format('{}', $.a)" } }) }))).toMatch(/intrinsic/);
    expect(await refused(machine({ T: lambdaTask({ Parameters: { 'x.$': '$.items[0]' } }) }))).toMatch(/JSONPath/);
    const operator = machine({
      C: { Type: 'Choice', Choices: [{ Variable: '$.a', StringContains: 'x', Next: 'S' }] },
      S: { Type: 'Succeed' },
    });
    expect(await refused(operator)).toMatch(/Choice rule/);
    expect(await refused({ ...machine({ S: { Type: 'Succeed' } }), QueryLanguage: 'JSONata' })).toMatch(/QueryLanguage/);
  });
});
