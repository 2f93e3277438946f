import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { startEventBucket, type EventBucket } from '../support/s3.ts';

/**
 * A days-long backfill on a compressed clock: every reading of the chunks' clock (about one per row) is 100 ms,
 * so 1,000,000 rows take ~28 h of execution time, past the state machine's 24 h timeout. The run must hand on
 * to fresh executions from its checkpoint and still end with ONE report of every row.
 */
const BUCKET = 'leads';
const ROWS = 1_000_000;

describe('a days-long backfill continues in fresh executions', () => {
  let bucket: EventBucket;
  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'backfill');
  });
  afterAll(() => bucket.close());

  it('1,000,000 rows cross at least two executions and end with one report of 1,000,000 lines, in order', async () => {
    const body: string[] = ['ID,TITLE'];
    for (let i = 1; i <= ROWS; i++) body.push(`${i},L${i}`);
    let clock = Date.parse('2024-03-01T00:00:00Z');
    const f = createLocalFlow({
      client: bucket.s3.client,
      // A chunk works 40 compressed minutes (~24,000 rows): a hand-on every 10 compressed hours (the deployed default).
      env: { LOG_LEVEL: 'SILENT', DRY_RUN: 'true', CHUNK_BUDGET_MS: String(40 * 60_000), CHUNK_MARGIN_MS: '1' },
      now: () => (clock += 100),
      chunkTimeoutMs: 365 * 24 * 3600_000,
    });
    const { runs } = await f.start(await bucket.upload('incoming/backfill.csv', `${body.join('\n')}\n`));
    const summary = await f.summaryOf(runs[0].executionName!);
    await f.stateMachine.settled();

    const executions = [...f.stateMachine.executions.values()];
    expect(executions.length).toBeGreaterThanOrEqual(3);
    expect(executions.map((e) => e.name)).toEqual([
      runs[0].executionName,
      ...executions.slice(1).map((_, i) => `${runs[0].executionName}-${i + 2}`),
    ]);
    expect(executions.map((e) => e.status)).toEqual([...executions.slice(1).map(() => 'SUCCEEDED'), 'SUCCEEDED']);
    expect(executions.every((e) => e.events < 25_000 && e.stoppedAt! - e.startedAt < 24 * 3600_000)).toBe(true);
    expect(summary).toMatchObject({ rows: ROWS, complete: true, runId: runs[0].runId });
    expect(summary.counts.valid).toBe(ROWS);

    // One report, each row once, in order.
    let text = '';
    for await (const c of await bucket.store.read(summary.report.report)) text += String(c);
    const lines = text.trimEnd().split('\r\n');
    expect(lines).toHaveLength(ROWS + 1);
    let ordered = true;
    for (let i = 1; i <= ROWS; i++) if (!lines[i].startsWith(`${i + 1},${i},valid`)) ordered = false;
    expect(ordered).toBe(true);
    // report.csv, rejected.csv, rejected.safe.csv, report.html, summary.json
    expect(await bucket.store.list(`reports/backfill.csv/`)).toHaveLength(5);
    expect(await bucket.store.list(`parts/${runs[0].runId}/`)).toEqual([]);
  }, 240_000);
});
