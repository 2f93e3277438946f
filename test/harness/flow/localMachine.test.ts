import { describe, expect, it } from 'vitest';
import { LocalStateMachine } from '../../../harness/flow/stateMachine.ts';
import type { RunState, Summary } from '../../../lambda/run/state.ts';

const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:local';
const state = (extra: Record<string, unknown> = {}) => ({ runId: 'r', checkpoint: { done: false }, ...extra }) as unknown as RunState;
const done = (s: RunState) => ({ ...s, checkpoint: { ...s.checkpoint, done: true } });
const summary = async () => ({ rows: 1 }) as unknown as Summary;

describe('LocalStateMachine on the synthesised definition', () => {
  it('Continue starts an execution of this machine with the state; its summary is the run result', async () => {
    // As the chunk handler does: the first execution's chunk names the successor, the successor's drops the name.
    const machine = new LocalStateMachine({
      chunk: async ({ continueAs, ...s }) => (continueAs ? done(s as RunState) : { ...s, continueAs: 'run-2' }),
      finalize: summary,
    });
    await machine.startExecution({ stateMachineArn: ARN, name: 'run', input: JSON.stringify(state()) });
    const first = machine.executions.get('run')!;
    await expect(first.result).resolves.toEqual({ rows: 1 });
    expect(first.states).toEqual(['Chunk', 'Done?', 'Continue?', 'Continue', 'Continued']);
    expect(first.continuedAs).toBe('run-2');
    // $$.StateMachine.Id and Input.$ '$': the same machine, the state as the chunk left it.
    expect(machine.executions.get('run-2')!.input).toMatchObject({ runId: 'r', continueAs: 'run-2' });
    expect(machine.executions.get('run-2')!.states).toEqual(['Chunk', 'Done?', 'Finalize', 'Outcome', 'Imported']);
  });

  it('a continuation that exists already is caught (StepFunctions.ExecutionAlreadyExistsException) into Continued', async () => {
    const machine = new LocalStateMachine({ chunk: async (s) => ({ ...s, continueAs: 'taken' }), finalize: summary });
    await machine.startExecution({ stateMachineArn: ARN, name: 'taken', input: JSON.stringify(done(state())) });
    await machine.executions.get('taken')!.result.catch(() => undefined);
    await machine.startExecution({ stateMachineArn: ARN, name: 'run', input: JSON.stringify(state()) });
    const run = machine.executions.get('run')!;
    await run.result.catch(() => undefined);
    expect(run.states.slice(-2)).toEqual(['Continue', 'Continued']);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.continuedAs).toBe('taken');
  });

  it("the worker's reserved concurrency throttles a second chunk (Lambda.TooManyRequestsException), retried by the Lambda-service retrier", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const machine = new LocalStateMachine({
      chunkConcurrency: 1,
      chunk: async (s) => {
        if (calls++ === 0) await held;
        return done(s);
      },
      finalize: summary,
      retryWait: async () => {
        release();
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    await machine.startExecution({ stateMachineArn: ARN, name: 'a', input: JSON.stringify(state()) });
    await machine.startExecution({ stateMachineArn: ARN, name: 'b', input: JSON.stringify(state()) });
    await machine.settled();
    const b = machine.executions.get('b')!;
    expect(b.throttled).toBeGreaterThanOrEqual(1);
    expect(b.status).toBe('SUCCEEDED');
    // IntervalSeconds 5 with FULL jitter: each wait drawn below 5 s × 2^n.
    expect(b.retries[0]).toMatchObject({ state: 'Chunk', error: 'Lambda.TooManyRequestsException', attempt: 1 });
    expect(b.retries[0].delayMs).toBeLessThanOrEqual(5000);
  });

  it('an execution that hands the run on to itself ends (rejects) instead of waiting for itself forever', async () => {
    const machine = new LocalStateMachine({ chunk: async (s) => ({ ...s, continueAs: 'self' }), finalize: summary });
    await machine.startExecution({ stateMachineArn: ARN, name: 'self', input: JSON.stringify(state()) });
    await expect(machine.executions.get('self')!.result).rejects.toThrow(/to itself/);
  });

  it('an execution name Step Functions would refuse is refused (InvalidName)', async () => {
    const machine = new LocalStateMachine({ chunk: async (s) => done(s), finalize: summary });
    for (const name of ['', 'a b', 'x'.repeat(81), 'a/b']) {
      await expect(machine.startExecution({ stateMachineArn: ARN, name, input: '{}' })).rejects.toMatchObject({ name: 'InvalidName' });
    }
  });
});
