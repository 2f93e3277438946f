import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Store } from '../../lambda/stores/s3Store.ts';
import { createLocalFlow, type LocalFlowOptions } from '../../harness/flow/localFlow.ts';
import type { LocalS3 } from '../../harness/localS3.ts';
import type { Summary } from '../../lambda/run/state.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import type { ReportRow } from '../support/badinput.ts';
import { startEventBucket, type EventBucket } from '../support/s3.ts';

/**
 * Bad input that only S3 can deliver, through the local flow (s3rver, the real handlers, the local state
 * machine): the object deleted or replaced while a run reads it in chunks, and an object far over the size limit.
 */

const BUCKET = 'leads';

function csv(rows: number, firstId = 1): string {
  const lines = ['ID,TITLE'];
  for (let i = 0; i < rows; i++) lines.push(`${firstId + i},Lead ${firstId + i}`);
  return lines.join('\n') + '\n';
}

describe('S3 objects that change or are too large', () => {
  let bucket: EventBucket;
  let s3: LocalS3;
  let store: S3Store;
  let upload: EventBucket['upload'];

  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'badinput-s3');
    ({ s3, store, upload } = bucket);
  });
  afterAll(() => bucket.close());

  async function report(summary: Summary): Promise<ReportRow[]> {
    let text = '';
    for await (const c of await store.read(summary.report.report)) text += String(c);
    return parse(text, { columns: true, record_delimiter: '\r\n' }) as ReportRow[];
  }

  /** Many small chunks (a clock that ticks 1 ms per reading); `beforeRead(n)` runs before the chunks' n-th source read. */
  function flow(beforeRead: (n: number) => Promise<void>, extra: Partial<LocalFlowOptions> = {}) {
    let reads = 0;
    let tick = 0;
    const wrap = (inner: ObjectStore, step: string): ObjectStore =>
      step !== 'chunk'
        ? inner
        : Object.assign(Object.create(inner) as ObjectStore, {
            read: async (k: string, o?: Parameters<ObjectStore['read']>[1]) => {
              if (k.startsWith('incoming/')) await beforeRead(++reads);
              return inner.read(k, o);
            },
          });
    return createLocalFlow({
      client: s3.client,
      env: { LOG_LEVEL: 'SILENT', DRY_RUN: 'true', CHUNK_BUDGET_MS: '300', CHUNK_MARGIN_MS: '1' },
      wrapStore: wrap,
      now: () => ++tick,
      ...extra,
    });
  }

  /** The rows done before the change: reported once each, in order, all from the first version. */
  async function expectPartialFromFirstVersion(summary: Summary) {
    expect(summary.complete).toBe(false);
    expect(summary.error?.message).toMatch(/the object changed while being read: s3:\/\/leads\/incoming\//);
    const rows = await report(summary);
    expect(rows.length).toBe(summary.rows);
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.rows).toBeLessThan(3000);
    expect(rows.map((r) => Number(r.id))).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    expect(rows.map((r) => Number(r.line))).toEqual(Array.from({ length: rows.length }, (_, i) => i + 2));
    expect(summary.counts.valid).toBe(summary.rows);
  }

  it('deleted while being read: the run fails clearly, the rows read before are reported once, in order', async () => {
    const key = 'incoming/deleted.csv';
    const f = flow(async (n) => {
      // Reads 1 and 2 are the header (format sniff, header line), 3 the first chunk: the object disappears before the second chunk.
      if (n === 4) await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    });
    const { runs } = await f.start(await upload(key, csv(3000)));
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(f.stateMachine.executions.get(runs[0].executionName!)!.error?.Error).toBe('ObjectChangedError');
    await expectPartialFromFirstVersion(summary);
  });

  it('replaced while being read: the run never mixes versions — it fails clearly after the rows of the first', async () => {
    const key = 'incoming/replaced.csv';
    const f = flow(async (n) => {
      if (n === 5) await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: csv(3000, 100_001) }));
    });
    const { runs } = await f.start(await upload(key, csv(3000)));
    const summary = await f.summaryOf(runs[0].executionName!);
    await expectPartialFromFirstVersion(summary);
    expect((await report(summary)).some((r) => Number(r.id) > 100_000)).toBe(false);
  });

  it('replaced between the upload event and the start: the stale event is ignored, the new upload runs whole', async () => {
    const key = 'incoming/raced.csv';
    const first = await upload(key, csv(10));
    const second = await upload(key, csv(20, 500));
    const f = flow(async () => {});
    const stale = await f.start(first);
    expect(stale.runs[0]).toMatchObject({ status: 'ignored', reason: 'replaced since the event' });
    const fresh = await f.start(second);
    const summary = await f.summaryOf(fresh.runs[0].executionName!);
    expect(summary).toMatchObject({ rows: 20, complete: true });
    expect((await report(summary)).map((r) => Number(r.id))).toEqual(Array.from({ length: 20 }, (_, i) => 500 + i));
  });

  it('an object far over the configured size limit is refused without reading a byte of it', async () => {
    const key = 'incoming/huge.csv';
    await store.write(key, csv(100_000));
    let reads = 0;
    const f = flow(async () => void reads++);
    const { runs } = await f.start({ bucket: BUCKET, key, dryRun: true, options: { input: { maxBytes: 1024 } } });
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(summary).toMatchObject({ rows: 0, complete: false, refused: { code: 'FILE_TOO_LARGE' } });
    expect(summary.refused!.message).toMatch(/^the file is \d{7} bytes, over the 1024-byte limit/);
    expect(reads).toBe(0);
    expect(await report(summary)).toEqual([]);
  });
});
