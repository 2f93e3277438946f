import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { startEventBucket, type EventBucket } from '../support/s3.ts';

/**
 * Runs of one deployment go one at a time in upload order, and a waiting run never gives up. The local state
 * machine emulates the worker's reserved concurrency 1 as deployed: a chunk started while another runs is
 * throttled (Lambda.TooManyRequestsException) and spends the Chunk retrier's attempts.
 */
const BUCKET = 'leads';

function csv(rows: number, from = 1): string {
  return `ID,TITLE\n${Array.from({ length: rows }, (_, i) => `${from + i},L${from + i}`).join('\n')}\n`;
}

describe('the run queue', () => {
  let bucket: EventBucket;
  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'queue');
  });
  afterAll(() => bucket.close());

  function flow() {
    let tick = 0;
    return createLocalFlow({
      client: bucket.s3.client,
      env: { LOG_LEVEL: 'SILENT', DRY_RUN: 'true', CHUNK_BUDGET_MS: '300', CHUNK_MARGIN_MS: '1' },
      now: () => ++tick,
    });
  }
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('five files dropped at once finish one at a time, in upload order, none giving up', async () => {
    const events: S3Event[] = [];
    for (let i = 0; i < 5; i++) {
      events.push(await bucket.upload(`incoming/batch-${i}.csv`, csv(1500, i * 10_000 + 1)));
      await pause(3); // distinct event times and sequencers
    }
    const f = flow();
    // The five start events arrive together.
    const results = await Promise.all(events.map((e) => f.start(e)));
    const names = results.map((r) => r.runs[0].executionName!);
    expect(results.map((r) => r.runs[0].status)).toEqual(['started', 'queued', 'queued', 'queued', 'queued']);
    const summaries = await Promise.all(names.map((n) => f.summaryOf(n)));
    await f.stateMachine.settled();

    expect(summaries.map((s) => [s.rows, s.complete, s.error])).toEqual(names.map(() => [1500, true, undefined]));
    const executions = names.map((n) => f.stateMachine.executions.get(n)!);
    expect(executions.map((e) => e.throttled)).toEqual([0, 0, 0, 0, 0]);
    expect(executions.map((e) => e.status)).toEqual(names.map(() => 'SUCCEEDED'));
    // Each starts after the one uploaded before it ended.
    for (let i = 1; i < 5; i++) expect(executions[i].startedAt).toBeGreaterThanOrEqual(executions[i - 1].stoppedAt!);
    expect(await bucket.store.list('queue/runs/')).toEqual([]);
    expect(await bucket.store.list('queue/active.json')).toEqual([]);
  });

  it('an identical re-upload to an unversioned bucket is a new run; the same event delivered twice is still one', async () => {
    const f = flow();
    const first = await bucket.upload('incoming/same.csv', csv(5));
    await pause(3);
    const again = await bucket.upload('incoming/same.csv', csv(5));
    const a = await f.start(first);
    const b = await f.start(again);
    const repeat = await f.start(JSON.parse(JSON.stringify(again)) as S3Event);
    // The first event's object was replaced by identical bytes: same ETag, so it is not "replaced since the event".
    expect(a.runs[0].status).toBe('started');
    expect(b.runs[0].status).toBe('queued');
    expect(b.runs[0].runId).not.toBe(a.runs[0].runId);
    expect(repeat.runs[0]).toMatchObject({ status: 'duplicate', runId: b.runs[0].runId });
    const summaries = await Promise.all([a, b].map((r) => f.summaryOf(r.runs[0].executionName!)));
    expect(summaries.map((s) => s.rows)).toEqual([5, 5]);
    await f.stateMachine.settled();
    expect(f.stateMachine.executions.size).toBe(2);
  });

  it("a record whose key escape is malformed is skipped with its reason; the event's other records still run", async () => {
    const f = flow();
    const good = await bucket.upload('incoming/good.csv', csv(3));
    const bad = JSON.parse(JSON.stringify(good.Records[0])) as S3Event['Records'][number];
    bad.s3.object.key = 'incoming/%E0%A4%A.csv';
    const { runs } = await f.start({ Records: [bad, good.Records[0]] });
    expect(runs[0]).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/URL encoding/) });
    expect(runs[1]).toMatchObject({ status: 'started', key: 'incoming/good.csv' });
    expect((await f.summaryOf(runs[1].executionName!)).rows).toBe(3);
  });
});
