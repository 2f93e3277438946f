import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalFlowOptions } from '../../harness/flow/localFlow.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import { startEventBucket, type EventBucket } from '../support/s3.ts';

/**
 * The local flow executes the definition the CDK synthesises from infra/workflow.ts: its retriers come from
 * infra/retryPolicy.ts through the synth, so changing a retrier there changes what a local run does.
 */
const BUCKET = 'leads';
const ROWS = 20;
const csv = ['ID,TITLE', ...Array.from({ length: ROWS }, (_, i) => `${i + 1},Lead ${i + 1}`)].join('\n') + '\n';

/** The worker dies (Runtime.ExitError, as Lambda reports a crashed runtime) on its first read of the source. */
function crashingOnce(): { wrap: NonNullable<LocalFlowOptions['wrapStore']>; crashes: () => number } {
  let crashes = 0;
  const wrap = (inner: ObjectStore, step: string): ObjectStore =>
    step !== 'chunk'
      ? inner
      : {
          ...inner,
          label: inner.label,
          head: (k) => inner.head(k),
          list: (p) => inner.list(p),
          remove: (k) => inner.remove(k),
          write: (k, b, t) => inner.write(k, b, t),
          read: async (k, o) => {
            if (k.startsWith('incoming/') && crashes === 0) {
              crashes += 1;
              throw Object.assign(new Error('Runtime exited with error: signal: killed'), { name: 'Runtime.ExitError' });
            }
            return inner.read(k, o);
          },
        };
  return { wrap, crashes: () => crashes };
}

describe('the local flow runs the retriers and catchers the CDK synthesises', () => {
  let bucket: EventBucket;
  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'deployed-retriers');
  });
  afterAll(() => bucket.close());

  /** One dry run of `key` through the local flow `createLocalFlow` builds, its first chunk attempt crashing. */
  async function crashOnce(createLocalFlow: typeof import('../../harness/flow/localFlow.ts').createLocalFlow, key: string) {
    const crash = crashingOnce();
    const flow = createLocalFlow({ client: bucket.s3.client, env: { LOG_LEVEL: 'SILENT', DRY_RUN: 'true' }, wrapStore: crash.wrap });
    const { runs } = await flow.start(await bucket.upload(key, csv));
    const summary = await flow.summaryOf(runs[0].executionName!);
    return { summary, execution: flow.stateMachine.executions.get(runs[0].executionName!)!, crashes: crash.crashes(), flow };
  }

  it("a chunk that crashes once is retried by the definition's own retrier (the crash retrier: 30 s, then twice that)", async () => {
    const { createLocalFlow } = await import('../../harness/flow/localFlow.ts');
    const { summary, execution, crashes, flow } = await crashOnce(createLocalFlow, 'incoming/crash-retried.csv');
    expect(crashes).toBe(1);
    expect(flow.stateMachine.definition.States.Chunk.Retry?.[1]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['Runtime.ExitError']),
      MaxAttempts: 2,
    });
    expect(execution.retries).toEqual([{ state: 'Chunk', error: 'Runtime.ExitError', attempt: 1, delayMs: 30_000 }]);
    expect(execution.states).toEqual(['Chunk', 'Done?', 'Finalize', 'Outcome', 'Imported']);
    expect(execution).toMatchObject({ status: 'SUCCEEDED', invocations: 2 });
    expect(execution.error).toBeUndefined();
    expect(summary).toMatchObject({ rows: ROWS, complete: true });
    expect(summary.counts.valid).toBe(ROWS);
  }, 120_000);

  it('with the crash retrier set to no retries in infra/retryPolicy.ts, the same crash is caught: SkipRest → FinalizeFailedRun → RunFailed', async () => {
    vi.resetModules();
    vi.doMock('../../infra/retryPolicy.ts', async (importOriginal) => {
      const real = await importOriginal<typeof import('../../infra/retryPolicy.ts')>();
      const CHUNK_RETRIERS = real.CHUNK_RETRIERS.map((r) => (r.errors === real.CHUNK_CRASH_ERRORS ? { ...r, maxAttempts: 0 } : r));
      return { ...real, CHUNK_RETRIERS };
    });
    try {
      const { createLocalFlow } = await import('../../harness/flow/localFlow.ts');
      const { summary, execution, crashes, flow } = await crashOnce(createLocalFlow, 'incoming/crash-caught.csv');
      expect(crashes).toBe(1);
      expect(flow.stateMachine.definition.States.Chunk.Retry?.[1].MaxAttempts).toBe(0);
      expect(execution.retries).toEqual([]);
      expect(execution.states).toEqual(['Chunk', 'SkipRest', 'Skipped?', 'FinalizeFailedRun', 'RunFailed']);
      expect(execution.status).toBe('FAILED');
      expect(execution.error?.Error).toBe('Runtime.ExitError');
      expect(execution.failure).toEqual(execution.error);
      // The report still has a line per row: every row skipped, with the chunk's error in the summary.
      expect(summary.rows).toBe(ROWS);
      expect(summary.counts.skipped).toBe(ROWS);
      expect(summary.error?.code).toBe('Runtime.ExitError');
    } finally {
      vi.doUnmock('../../infra/retryPolicy.ts');
      vi.resetModules();
    }
  }, 120_000);
});
