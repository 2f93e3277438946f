import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { parseRunOptions, type RunOptionsInput } from '../../lambda/config.ts';
import { runChunk } from '../../lambda/run/chunk.ts';
import { RunHaltedError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { driveRun, newRunState, type DriveOptions } from '../../lambda/run/drive.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { DEFERRED, type LeadSender, type RowOutcome, type SendStats, type ValidRow } from '../../lambda/types.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'engine-'));
  dirs.push(d);
  return d;
}

interface Run {
  summary: Summary;
  state: RunState;
  report: string;
  rejected: Buffer;
  out: string;
}

/** Writes `content` as in.csv, runs it through driveRun on FsStores, returns the outputs. */
async function run(
  content: string | Buffer,
  options: RunOptionsInput = { dryRun: true },
  drive: DriveOptions & { sender?: LeadSender; windowRows?: number; now?: () => number } = {},
): Promise<Run> {
  const dir = await tmp();
  await writeFile(join(dir, 'in.csv'), content);
  const source = new FsStore(dir);
  const output = new FsStore(join(dir, 'out'));
  const state0 = newRunState({
    source: { bucket: '', ...(await source.head('in.csv')) },
    reportPrefix: '',
    partsPrefix: '.parts/',
    options: parseRunOptions(options),
  });
  const { sender, windowRows, now, ...opts } = drive;
  const { state, summary } = await driveRun(
    state0,
    {
      source,
      output,
      catalogue: standardCatalogue(),
      ...(sender ? { sender } : {}),
      ...(windowRows ? { windowRows } : {}),
      ...(now ? { now } : {}),
    },
    opts,
  );
  return {
    summary,
    state,
    report: await readFile(join(dir, 'out', 'report.csv'), 'utf8'),
    rejected: await readFile(join(dir, 'out', 'rejected.csv')),
    out: join(dir, 'out'),
  };
}

/** A realistic file: valid rows, a few invalid ones, quoted commas/quotes/newlines, CRLF. */
function sampleCsv(rows: number): string {
  const lines = ['ID,TITLE,EMAIL_WORK,COMMENTS'];
  for (let i = 1; i <= rows; i++) {
    if (i % 10 === 3) lines.push(`x${i},Bad id ${i},a${i}@example.com,`);
    else if (i % 10 === 7)
      lines.push(`${i},Bad mail,bob@,"say ""hi"", then
call back"`);
    else if (i % 17 === 0) lines.push(`${i},short row`);
    else lines.push(`${i},"Lead ${i}, Inc.",lead${i}@example.com,Привет ${i}`);
  }
  return lines.join('\r\n') + '\r\n';
}

const reportLines = (report: string) => report.trimEnd().split('\r\n').slice(1);

describe('runChunk / driveRun (dry run)', () => {
  it('writes exactly one report line per record, in input order, with invalid rows at their positions', async () => {
    const r = await run(sampleCsv(40));
    const lines = reportLines(r.report);
    expect(r.report.startsWith('line,id,status,error_code,error_message,attempts\r\n')).toBe(true);
    // Record 7's quoted newline makes it span two lines: later records start one line further down.
    const statuses = lines.map((l) => l.split(',')[2]);
    expect(lines).toHaveLength(40);
    expect(statuses.filter((s) => s === 'invalid')).toHaveLength(4 + 4 + 1); // ids x3…, bad mail 7…, short row 34
    expect(lines[0]).toBe('2,1,valid,,,0');
    expect(lines[2]).toMatch(/^4,x3,invalid,INVALID_ID,/);
    expect(lines[6]).toMatch(/^8,7,invalid,INVALID_VALUE,/);
    expect(lines[7]).toMatch(/^10,8,valid/); // record 8 starts on line 10
    expect(r.summary).toMatchObject({ rows: 40, dryRun: true, complete: true });
    expect(r.summary.counts).toMatchObject({ valid: 31, invalid: 9 });
    expect(r.summary.errorCodes).toEqual({ INVALID_ID: 4, INVALID_VALUE: 4, ROW_CELL_COUNT: 1 });
  });

  it('rejected.csv is the header plus the raw invalid rows, unchanged', async () => {
    const r = await run(sampleCsv(10));
    expect(r.rejected.toString('utf8')).toBe(
      'ID,TITLE,EMAIL_WORK,COMMENTS\r\nx3,Bad id 3,a3@example.com,\r\n7,Bad mail,bob@,"say ""hi"", then\ncall back"\r\n', // the quoted LF stays as the user wrote it
    );
  });

  it('a run in many chunks writes the same files, byte for byte, as one chunk', async () => {
    const csv = sampleCsv(120);
    const one = await run(csv);
    for (const chunkRows of [1, 7, 50]) {
      const many = await run(csv, { dryRun: true }, { chunkRows, windowRows: 3 });
      expect(many.report).toBe(one.report);
      expect(many.rejected.equals(one.rejected)).toBe(true);
      expect(many.state.checkpoint.part).toBe(Math.ceil(120 / chunkRows));
      expect(many.summary.counts).toEqual(one.summary.counts);
    }
  });

  it('stops at the deadline and the next chunk continues at the exact byte offset', async () => {
    const csv = sampleCsv(30);
    let t = 0;
    const now = () => t++; // every clock read advances time: each chunk's budget runs out after a few rows
    const many = await run(csv, { dryRun: true }, { chunkBudgetMs: 5, now, windowRows: 2 });
    const one = await run(csv);
    expect(many.state.checkpoint.part).toBeGreaterThan(3);
    expect(many.report).toBe(one.report);
  });

  it('checkpoints the offset and line of the next record', async () => {
    const csv = 'ID,TITLE\r\n1,"a\r\nb"\r\n2,c\r\n3,d\r\n';
    const dir = await tmp();
    await writeFile(join(dir, 'in.csv'), csv);
    const source = new FsStore(dir);
    const output = new FsStore(join(dir, 'out'));
    let state = newRunState({
      source: { bucket: '', ...(await source.head('in.csv')) },
      reportPrefix: '',
      partsPrefix: 'p/',
      options: parseRunOptions({ dryRun: true }),
    });
    state = await runChunk(state, { source, output, catalogue: standardCatalogue(), deadline: Infinity, maxChunkRows: 1 });
    expect(state.checkpoint).toMatchObject({
      offset: Buffer.byteLength('ID,TITLE\r\n1,"a\r\nb"\r\n'),
      line: 4,
      part: 1,
      rows: 1,
      done: false,
    });
    expect(state.checkpoint.header).toEqual(['ID', 'TITLE']);
    expect(state.checkpoint.format).toEqual({ encoding: 'utf-8', delimiter: ',', bom: false });
    state = await runChunk(state, { source, output, catalogue: standardCatalogue(), deadline: Infinity, maxChunkRows: 1 });
    expect(state.checkpoint).toMatchObject({ offset: csv.indexOf('3,d'), line: 5, part: 2, rows: 2 });
    expect(await readFile(join(dir, 'out', 'p', '000001.report.csv'), 'utf8')).toBe('4,2,valid,,,0\r\n');
  });

  it('keeps windows-1251 rows as windows-1251 bytes in rejected.csv', async () => {
    const text = 'ID;TITLE;NAME\r\n1;Заявка;Иван\r\nабв;Плохой ID;Пётр\r\n2;Ок;Ёжик\r\n';
    const r = await run(iconv.encode(text, 'win1251'));
    expect(r.state.checkpoint.format).toMatchObject({ encoding: 'windows-1251', delimiter: ';' });
    expect(r.rejected.equals(iconv.encode('ID;TITLE;NAME\r\nабв;Плохой ID;Пётр\r\n', 'win1251'))).toBe(true);
    expect(reportLines(r.report)).toHaveLength(3);
    expect(r.report).toContain('3,абв,invalid,INVALID_ID');
  });

  it('keeps a UTF-8 BOM in rejected.csv and strips it from the header', async () => {
    const r = await run('\uFEFFID,TITLE\n1,a\nzz,b\n');
    expect(r.state.checkpoint.header).toEqual(['ID', 'TITLE']);
    expect(r.rejected.equals(Buffer.from('\uFEFFID,TITLE\r\nzz,b\r\n'))).toBe(true);
  });

  it('header only: a complete run of zero rows', async () => {
    const r = await run('ID,TITLE\r\n');
    expect(r.summary).toMatchObject({ rows: 0, complete: true });
    expect(r.summary.refused).toBeUndefined();
    expect(r.report).toBe('line,id,status,error_code,error_message,attempts\r\n');
  });

  it('refuses an empty file, and a header the catalogue rejects, with no rows', async () => {
    const empty = await run('');
    expect(empty.summary.refused?.code).toBe('EMPTY_FILE');
    expect(empty.summary.rows).toBe(0);
    const bad = await run('ID,NOT_A_FIELD\n1,x\n');
    expect(bad.summary.refused?.code).toBe('UNKNOWN_COLUMN');
    expect(reportLines(bad.report)).toHaveLength(0);
  });

  it('refuses UTF-16 and files over --max-bytes before reading rows', async () => {
    const utf16 = await run(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ID\r\n1\r\n', 'utf16le')]));
    expect(utf16.summary.refused?.code).toBe('UNSUPPORTED_ENCODING');
    const big = await run(sampleCsv(5), { dryRun: true, input: { maxBytes: 20 } });
    expect(big.summary.refused?.code).toBe('FILE_TOO_LARGE');
  });

  it('an unclosed quote mid-file: earlier rows keep their outcomes and the summary says cut short', async () => {
    const r = await run('ID,TITLE\n1,a\n2,b\n3,"c\n4,d\n5,e\n', { dryRun: true }, { chunkRows: 1 });
    expect(reportLines(r.report)).toEqual(['2,1,valid,,,0', '3,2,valid,,,0']);
    expect(r.summary.cutShort).toMatchObject({ line: 4 });
    expect(r.summary.cutShort?.message).toMatch(/line 4/);
    expect(r.summary.complete).toBe(false);
  });

  it('stops past --max-rows with a clear reason', async () => {
    const r = await run(sampleCsv(20), { dryRun: true, input: { maxRows: 5 } });
    expect(reportLines(r.report)).toHaveLength(5);
    expect(r.summary.cutShort?.message).toMatch(/more than 5 rows/);
  });

  it('--max-rows counts each row once, however many windows the chunk wrote before (1,000 rows, limit 600)', async () => {
    const csv = `ID,TITLE\n${Array.from({ length: 1000 }, (_, i) => `${i + 1},t${i + 1}`).join('\n')}\n`;
    for (const drive of [{}, { chunkRows: 170 }]) {
      const r = await run(csv, { dryRun: true, input: { maxRows: 600 } }, drive);
      expect(reportLines(r.report)).toHaveLength(600);
      expect(r.summary.rows).toBe(600);
      expect(r.summary.cutShort).toMatchObject({ line: 602 });
      expect(r.summary.cutShort?.message).toMatch(/more than 600 rows/);
    }
  });

  it('a cell over the size limit makes its row invalid and the whole raw row still reaches rejected.csv', async () => {
    const huge = 'я'.repeat(40_000); // 80,000 bytes in UTF-8: over the 64 KiB cell limit, bigger than a write piece
    const r = await run(`ID,TITLE\n1,ok\n2,${huge}\n3,ok\n`);
    expect(reportLines(r.report).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      '2,1,valid,',
      '3,2,invalid,CELL_TOO_LARGE',
      '4,3,valid,',
    ]);
    expect(r.rejected.toString('utf8')).toBe(`ID,TITLE\r\n2,${huge}\r\n`);
  });

  it('removes the parts after finalizing', async () => {
    const r = await run(sampleCsv(10), { dryRun: true }, { chunkRows: 2 });
    expect((await readdir(r.out)).sort()).toEqual(['rejected.csv', 'rejected.safe.csv', 'report.csv', 'report.html', 'summary.json']);
  });
});

/** A sender that marks rows updated, and can defer rows or halt the run. */
class FakeSender implements LeadSender {
  sent: number[] = [];
  private s: SendStats = { requests: 0, retries: 0, throttledMs: 0, limitErrors: {} };
  constructor(private readonly behave: { deferEvery?: number; haltAtId?: number; failId?: number } = {}) {}
  private calls = 0;
  async send(rows: ValidRow[]): Promise<RowOutcome[]> {
    this.calls++;
    this.s.requests++;
    this.s.limitErrors.QUERY_LIMIT_EXCEEDED = (this.s.limitErrors.QUERY_LIMIT_EXCEEDED ?? 0) + 1;
    await new Promise((r) => setImmediate(r));
    if (this.behave.haltAtId !== undefined && rows.some((r) => r.id >= this.behave.haltAtId!)) {
      throw new RunHaltedError('OVERLOAD_LIMIT', 'the portal blocked the webhook (OVERLOAD_LIMIT)');
    }
    // Every `deferEvery`-th call only manages the first row: the rest come back DEFERRED.
    const deferFrom = this.behave.deferEvery && this.calls % this.behave.deferEvery === 0 ? 1 : Infinity;
    return rows.map((r, i) => {
      if (i >= deferFrom)
        return { line: r.line, id: String(r.id), status: 'skipped', errorCode: DEFERRED, message: 'deadline', attempts: 0 };
      this.sent.push(r.id);
      if (r.id === this.behave.failId)
        return { line: r.line, id: String(r.id), status: 'failed', errorCode: 'NOT_FOUND', message: '=Not found', attempts: 1 };
      return { line: r.line, id: String(r.id), status: 'updated', errorCode: '', message: '', attempts: 1 };
    });
  }
  stats(): SendStats {
    return { ...this.s, limitErrors: { ...this.s.limitErrors } };
  }
}

describe('runChunk with a sender', () => {
  it('sends valid rows in windows and merges outcomes in input order; failed rows go to rejected.csv', async () => {
    const sender = new FakeSender({ failId: 12 });
    const r = await run(sampleCsv(40), { dryRun: false }, { sender, windowRows: 4 });
    const lines = reportLines(r.report);
    expect(lines).toHaveLength(40);
    expect(r.summary.counts).toMatchObject({ updated: 30, failed: 1, invalid: 9 });
    expect(lines.find((l) => l.split(',')[1] === '12')).toBe("14,12,failed,NOT_FOUND,'=Not found,1");
    expect(r.rejected.toString()).toContain('\r\n12,"Lead 12, Inc.",lead12@example.com,Привет 12\r\n');
    expect(r.summary.requests).toBe(Math.ceil(31 / 4));
    expect(r.summary.limitErrors).toEqual({ QUERY_LIMIT_EXCEEDED: Math.ceil(31 / 4) });
    expect(new Set(sender.sent).size).toBe(sender.sent.length); // no row sent twice
  });

  it('ends a chunk at the first DEFERRED row and re-reads it next chunk: every record once, none lost', async () => {
    const csv = sampleCsv(60);
    const sender = new FakeSender({ deferEvery: 3 });
    const r = await run(csv, { dryRun: false }, { sender, windowRows: 5 });
    expect(r.state.checkpoint.part).toBeGreaterThan(2);
    const plain = await run(csv, { dryRun: false }, { sender: new FakeSender(), windowRows: 5 });
    expect(r.report).toBe(plain.report);
    expect(r.summary.counts).toEqual(plain.summary.counts);
    expect(r.summary.counts.skipped).toBe(0);
  });

  it('after RunHaltedError every later valid row is skipped with its code, invalid rows stay invalid, across chunks', async () => {
    const r = await run(sampleCsv(40), { dryRun: false }, { sender: new FakeSender({ haltAtId: 20 }), windowRows: 3, chunkRows: 9 });
    const lines = reportLines(r.report);
    expect(lines).toHaveLength(40);
    expect(r.summary.halted).toEqual({ code: 'OVERLOAD_LIMIT', message: 'the portal blocked the webhook (OVERLOAD_LIMIT)' });
    expect(r.summary.complete).toBe(false);
    const after = lines.filter((l) => Number(l.split(',')[1]) >= 21);
    expect(after.every((l) => /,(skipped,OVERLOAD_LIMIT|invalid),/.test(l))).toBe(true);
    expect(lines.find((l) => l.split(',')[1] === '37')).toMatch(/invalid,INVALID_VALUE/);
    expect(lines.find((l) => l.split(',')[1] === '1')).toMatch(/updated/);
  });

  it('a source replaced between chunks fails the run with a clear error and keeps the rows done', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'in.csv'), sampleCsv(10));
    const source = new FsStore(dir);
    const output = new FsStore(join(dir, 'out'));
    const deps = { source, output, catalogue: standardCatalogue() };
    let state = newRunState({
      source: { bucket: '', ...(await source.head('in.csv')) },
      reportPrefix: '',
      partsPrefix: '.parts/',
      options: parseRunOptions({ dryRun: true }),
    });
    state = await runChunk(state, { ...deps, deadline: Infinity, maxChunkRows: 4 });
    await writeFile(join(dir, 'in.csv'), sampleCsv(11)); // a new upload under the same name
    const { summary } = await driveRun(state, deps);
    expect(summary.error?.code).toBe('OBJECT_CHANGED');
    expect(summary.error?.message).toMatch(/changed/);
    expect(summary.rows).toBe(4);
    expect(summary.complete).toBe(false);
    expect(reportLines(await readFile(join(dir, 'out', 'report.csv'), 'utf8'))).toHaveLength(4);
  });
});
