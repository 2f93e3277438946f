import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { LocalStateMachine } from '../../harness/flow/stateMachine.ts';
import { MAX_PAYLOAD_BYTES } from '../../harness/flow/serviceLimits.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { startEventBucket, type EventBucket } from '../support/s3.ts';

/**
 * Step Functions' quotas, as the local state machine enforces them: payloads ≤ 256 KiB (States.DataLimitExceeded),
 * 25,000 history events, the run timeout. The runs stay inside them; what passes them ends as AWS ends it.
 */
const BUCKET = 'leads';

async function lines(bucket: EventBucket, key: string): Promise<string[]> {
  let text = '';
  for await (const c of await bucket.store.read(key)) text += String(c);
  return text.trimEnd().split('\r\n');
}

/** A header of `columns` custom fields (names ~28 characters) and `rows` rows that fill only ID. */
function wide(columns: number, rows: number): string {
  const header = ['ID', ...Array.from({ length: columns }, (_, i) => `UF_CRM_A_VERY_WIDE_COL_${String(i).padStart(5, '0')}`)];
  const body = Array.from({ length: rows }, (_, i) => `${i + 1}${','.repeat(columns)}`);
  return `${[header.join(','), ...body].join('\n')}\n`;
}

describe('the state stays small', () => {
  let bucket: EventBucket;
  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'quotas');
  });
  afterAll(() => bucket.close());
  const flow = () => createLocalFlow({ client: bucket.s3.client, env: { LOG_LEVEL: 'SILENT', DRY_RUN: 'true' } });

  it('a wide header (~140 KB, carried twice it passed 256 KiB): every row reported, no state near the quota', async () => {
    const f = flow();
    const { runs } = await f.start(await bucket.upload('incoming/wide.csv', wide(4900, 20)));
    const summary = await f.summaryOf(runs[0].executionName!);
    const execution = f.stateMachine.executions.get(runs[0].executionName!)!;
    expect(execution.error).toBeUndefined();
    expect(summary).toMatchObject({ rows: 20, complete: true });
    expect(await lines(bucket, summary.report.report)).toHaveLength(21);
    expect(execution.maxStateBytes).toBeLessThan(16 * 1024);
    // rejected.csv still starts with the user's own header, read back from S3.
    expect((await lines(bucket, summary.report.rejected))[0]).toMatch(/^ID,UF_CRM_A_VERY_WIDE_COL_00000,.*_04899$/);
    expect(await bucket.store.list(`parts/${runs[0].runId}/`)).toEqual([]);
  });

  it('a header of more than 5,000 columns is refused as HEADER_TOO_LARGE before any row is read', async () => {
    const f = flow();
    const { runs } = await f.start(await bucket.upload('incoming/too-wide.csv', wide(5001, 3)));
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(summary.refused?.code).toBe('HEADER_TOO_LARGE');
    expect(summary.refused?.message).toMatch(/5002 columns/);
    expect(summary.rows).toBe(0);
    expect(f.stateMachine.executions.get(runs[0].executionName!)!.status).toBe('FAILED');
  });
});

describe('local state machine: the service quotas', () => {
  const input = { runId: 'r', checkpoint: { done: false, part: 0 } } as unknown as RunState;
  async function play(chunk: (state: RunState) => Promise<RunState>, extra: { now?: () => number } = {}) {
    const finalized: unknown[] = [];
    const machine = new LocalStateMachine({
      chunk,
      finalize: async (event) => {
        finalized.push(event);
        return { error: (event as { error?: unknown }).error } as unknown as Summary;
      },
      ...extra,
    });
    await machine.startExecution({ stateMachineArn: 'arn:local', name: 'run', input: JSON.stringify(input) });
    const execution = machine.executions.get('run')!;
    const result = await execution.result.then(
      (summary) => ({ summary }),
      (err: Error) => ({ failed: err.name }),
    );
    return { execution, result, finalized };
  }

  it('a chunk output over 256 KiB fails as States.DataLimitExceeded, caught into the report of the checkpoint before it', async () => {
    const { execution, finalized } = await play(async (state) => ({ ...state, big: 'x'.repeat(MAX_PAYLOAD_BYTES) }) as RunState);
    expect(execution.error?.Error).toBe('States.DataLimitExceeded');
    // No retrier matches it: the Chunk attempt, then SkipRest (the same function) meets it too, and is caught.
    expect(execution.invocations).toBe(2);
    expect(finalized).toHaveLength(1);
    expect((finalized[0] as { big?: string }).big).toBeUndefined();
    expect(execution.status).toBe('FAILED');
  });

  it('an execution passing 25,000 history events fails like AWS fails it: no Catch, no finalize', async () => {
    const { execution, result, finalized } = await play(async (state) => state);
    expect(result).toEqual({ failed: 'States.Runtime' });
    expect(execution.events).toBeGreaterThan(25_000);
    expect(execution.invocations).toBeGreaterThan(2500);
    expect(finalized).toHaveLength(0);
  });

  it('an execution running past the timeout (24 h on its clock) times out: no Catch, no finalize', async () => {
    let clock = 0;
    const { execution, result, finalized } = await play(
      async (state) => {
        clock += 3600_000;
        return state;
      },
      { now: () => clock },
    );
    expect(result).toEqual({ failed: 'States.Timeout' });
    expect(execution.status).toBe('TIMED_OUT');
    expect(finalized).toHaveLength(0);
  });
});
