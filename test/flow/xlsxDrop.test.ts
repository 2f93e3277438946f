/**
 * .xlsx workbooks dropped in the bucket (#18 item 13) through the local flow (s3rver events, the real handlers,
 * the local state machine) against the sandbox: start accepts the upload, the first chunk converts the first
 * sheet to CSV beside the run's parts and every chunk reads that copy, line numbers are the sheet's rows, and a
 * workbook that cannot be read is refused with the reason in summary.json, nothing sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { parseReport, readText } from '../support/faults.ts';
import { type EventBucket, startEventBucket } from '../support/s3.ts';
import { type XSheet, xlsxOf } from '../source/xlsxFile.ts';
import { dropObject } from './support/drop.ts';

const BUCKET = 'leads';

describe('an .xlsx workbook dropped in the bucket', () => {
  let bucket: EventBucket;
  let sb: Sandbox;
  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'xlsx-drop');
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  });
  afterAll(async () => {
    await sb.close();
    await bucket.close();
  });

  /** Drops the workbook; the run through start → chunk ⟲ → finalize, with the states the chunks returned. */
  async function drop(key: string, book: Buffer, options?: string) {
    const states: RunState[] = [];
    let skew = 0;
    const flow = createLocalFlow({
      client: bucket.s3.client,
      webhookUrl: sb.webhookUrl,
      // The chunks' clock runs 20 ms ahead at each reading and their budget is short: the sheet is read in several
      // chunks (the sender keeps the real clock, so its deadline stays ahead of it).
      env: { LOG_LEVEL: 'SILENT', PORTAL_RATE: '1000', PORTAL_BURST: '1000', CHUNK_BUDGET_MS: '400', CHUNK_MARGIN_MS: '1' },
      now: () => {
        skew += 20;
        return Date.now() + skew;
      },
      onChunk: (state) => void states.push(structuredClone(state)),
    });
    const event = await dropObject(bucket.s3, BUCKET, key, book, options ? { 'b24-options': options } : undefined);
    const { runs } = await flow.start(event);
    expect(runs[0].status, runs[0].reason).toBe('started');
    const summary: Summary = await flow.summaryOf(runs[0].executionName!);
    const report = parseReport(await readText(bucket.store, summary.report.report));
    return { runs, summary, report, states };
  }

  it('is imported from its first sheet over several chunks: sheet row numbers, the CSV staged beside the parts, then removed', async () => {
    const ids = sb.seedLeads(Array.from({ length: 60 }, (_, i) => ({ TITLE: `Lead ${i + 1}` })));
    const rows: XSheet['rows'] = { 1: ['ID', 'TITLE', 'PHONE_WORK'] };
    // Sheet rows 2…, with row 3 left empty (absent from the XML) and one bad ID on row 7.
    for (const [i, id] of ids.entries()) {
      const at = i === 0 ? 2 : i + 3;
      rows[at] = [at === 7 ? 'abc' : id, `Imported ${i + 1}`, { n: String(79_000_000_000 + i), fmt: 'integer' }];
    }
    const other: XSheet = { name: 'Second', rows: { 1: ['ID', 'TITLE'], 2: [ids[0], 'from the second sheet'] } };
    const book = xlsxOf([{ name: 'Leads', rows }, other]);
    const r = await drop('incoming/march.XLSX', book);

    expect(r.summary).toMatchObject({ source: `s3://${BUCKET}/incoming/march.XLSX`, rows: 60, complete: true });
    expect(r.summary.counts).toMatchObject({ updated: 59, invalid: 1 });
    const sheetRows = Object.keys(rows).map(Number).slice(1);
    expect(r.report.map((l) => l.line)).toEqual(sheetRows);
    const bad = r.report.find((l) => l.status === 'invalid')!;
    expect(bad).toMatchObject({ line: 7, errorCode: 'INVALID_ID' });
    expect(bad.message).toMatch(/^line 7, ID: /);

    // What reached the portal: every good row's lead, as the sheet holds it (a phone stored as a number stays digits).
    for (const [i, id] of ids.entries()) {
      const lead = sb.lead(id)!;
      if (i === 4) expect(lead.TITLE).toBe('Lead 5');
      else expect([lead.TITLE, lead.PHONE?.map((p) => p.VALUE)]).toEqual([`Imported ${i + 1}`, [String(79_000_000_000 + i)]]);
    }
    expect(sb.leads().some((l) => l.TITLE === 'from the second sheet')).toBe(false);

    // Several chunks, each reading the staged CSV (pinned by its ETag), not the workbook.
    expect(r.states.length).toBeGreaterThanOrEqual(3);
    const staged = r.states[0].checkpoint.staged!;
    expect(staged.key).toBe(`parts/${r.runs[0].runId}/source.csv`);
    expect(staged.etag).toBeTruthy();
    expect(r.states.every((s) => s.checkpoint.staged?.key === staged.key && s.checkpoint.format?.encoding === 'utf-8')).toBe(true);
    expect(r.states[0].checkpoint.done).toBe(false);

    // rejected.csv is the sheet's CSV form; the staged copy went with the parts; the workbook is untouched.
    expect(await readText(bucket.store, r.summary.report.rejected)).toBe('ID,TITLE,PHONE_WORK\r\nabc,Imported 5,79000000004\r\n');
    expect(await bucket.store.list(`parts/${r.runs[0].runId}/`)).toEqual([]);
    const kept = await bucket.store.head('incoming/march.XLSX');
    expect(kept.size).toBe(book.length);
  });

  it('is told by its bytes: a workbook saved under a .csv name is read as one', async () => {
    const [id] = sb.seedLeads([{ TITLE: 'Named wrong' }]);
    const r = await drop('incoming/saved-as.csv', xlsxOf([{ name: 'S', rows: { 1: ['ID', 'TITLE'], 2: [id, 'Zoë, GmbH'] } }]));
    expect(r.summary.counts).toMatchObject({ updated: 1 });
    expect(sb.lead(id)!.TITLE).toBe('Zoë, GmbH');
  });

  it("the file's own options apply to the sheet: --match EMAIL finds leads by e-mail", async () => {
    const [ann] = sb.seedLeads([{ TITLE: 'Ann', EMAIL: [{ VALUE: 'ann.xlsx@example.com', VALUE_TYPE: 'WORK' }] }]);
    const book = xlsxOf([{ name: 'S', rows: { 1: ['EMAIL', 'TITLE'], 2: ['ann.xlsx@example.com', 'Ann from a sheet'] } }]);
    const r = await drop('incoming/by-email.xlsx', book, '--match EMAIL');
    expect(r.report.map((l) => [l.line, l.id, l.status])).toEqual([[2, String(ann), 'updated']]);
    expect(sb.lead(ann)!.TITLE).toBe('Ann from a sheet');
  });

  it('a workbook that cannot be read is refused with the reason in summary.json; nothing is sent', async () => {
    const [id] = sb.seedLeads([{ TITLE: 'Untouched' }]);
    const writes = sb.ledger().length;
    const book = xlsxOf([{ name: 'S', rows: { 1: ['ID', 'TITLE'], 2: [id, 'a'], 3: [id, 'b'], 4: [id, 'c'] } }]);

    const cut = await drop('incoming/cut.xlsx', book.subarray(0, book.length - 40));
    expect(cut.summary.refused).toMatchObject({ code: 'XLSX_UNREADABLE' });
    expect(cut.summary.refused?.message).toMatch(/cannot be read/);

    const many = await drop('incoming/many.xlsx', book, '--max-rows 2');
    expect(many.summary.refused).toMatchObject({ code: 'TOO_MANY_ROWS' });
    expect(many.summary.refused?.message).toMatch(/over the 2-row limit \(--max-rows\)/);

    const empty = await drop('incoming/empty.xlsx', xlsxOf([{ name: 'Empty', rows: {} }]));
    expect(empty.summary.refused).toMatchObject({ code: 'EMPTY_FILE' });

    // The workbook is within --max-bytes, its CSV is not (a note kept once in the workbook, on every CSV line).
    const note = 'Перезвонить после обеда. '.repeat(40);
    const rows: XSheet['rows'] = { 1: ['ID', 'COMMENTS'] };
    for (let i = 2; i <= 12; i++) rows[i] = [id, note];
    const long = xlsxOf([{ name: 'S', rows }]);
    const big = await drop('incoming/big.xlsx', long, `--max-bytes ${long.length * 2}`);
    expect(big.summary.refused).toMatchObject({ code: 'FILE_TOO_LARGE' });
    expect(big.summary.refused?.message).toContain(`over the ${long.length * 2}-byte limit (--max-bytes)`);

    for (const r of [cut, many, empty, big]) {
      expect(r.report).toEqual([]);
      expect(await bucket.store.list(`parts/${r.runs[0].runId}/`)).toEqual([]);
    }
    expect(sb.ledger().length).toBe(writes);
    expect(sb.lead(id)!.TITLE).toBe('Untouched');
  });
});
