import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import { startEventBucket, type EventBucket } from '../support/s3.ts';

/** Step Functions retries a Finalize whose Lambda died (Runtime.ExitError) — also after it had done its work. */
describe('finalize retried by the workflow', () => {
  let bucket: EventBucket;
  beforeAll(async () => {
    bucket = await startEventBucket('leads', 'finalize-retry');
  });
  afterAll(() => bucket.close());

  async function lines(key: string): Promise<string[]> {
    let text = '';
    for await (const c of await bucket.store.read(key)) text += String(c);
    return text.trimEnd().split('\r\n');
  }

  it('a finalize that dies after removing the parts is retried: report.csv and rejected.csv keep every row', async () => {
    let died = 0;
    const dying = (inner: ObjectStore, step: string): ObjectStore =>
      step !== 'finalize'
        ? inner
        : Object.assign(Object.create(inner) as ObjectStore, {
            remove: async (keys: string[]) => {
              await inner.remove(keys);
              if (died++ === 0) throw Object.assign(new Error('worker killed'), { name: 'Runtime.ExitError' });
            },
          });
    const f = createLocalFlow({
      client: bucket.s3.client,
      env: { LOG_LEVEL: 'SILENT', DRY_RUN: 'true', CHUNK_BUDGET_MS: '300', CHUNK_MARGIN_MS: '1' },
      wrapStore: dying,
      now: (() => {
        let t = 0;
        return () => ++t;
      })(),
    });
    const rows = ['ID,TITLE', ...Array.from({ length: 2000 }, (_, i) => (i % 100 === 5 ? `bad${i},x` : `${i + 1},L${i + 1}`))];
    const { runs } = await f.start(await bucket.upload('incoming/retried.csv', `${rows.join('\n')}\n`));
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(died).toBe(1); // the retry found this run's summary: nothing left to remove
    expect(f.stateMachine.executions.get(runs[0].executionName!)!.status).toBe('SUCCEEDED');
    expect(summary.rows).toBe(2000);
    expect(await lines(summary.report.report)).toHaveLength(2001);
    expect(await lines(summary.report.rejected)).toHaveLength(1 + 20);
    const stored = JSON.parse((await lines(summary.report.summary)).join('\n')) as { rows: number };
    expect(stored.rows).toBe(2000);
  });
});
