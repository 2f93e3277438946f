import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { CsvCutShortError } from '../../lambda/errors.ts';
import { lineAfter, readRecords, type RecordFormat } from '../../lambda/rows/records.ts';
import type { SourceRecord } from '../../lambda/types.ts';

const utf8: RecordFormat = { encoding: 'utf-8', delimiter: ',' };

/** Feeds `bytes[from..]` in chunks of `size` (1-byte chunks split every multi-byte character and CRLF). */
function streamOf(bytes: Buffer, size = 1 << 16, from = 0): Readable {
  const chunks: Buffer[] = [];
  for (let i = from; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function readAll(
  bytes: Buffer,
  format: RecordFormat,
  opts: { size?: number; offset?: number; line?: number; maxRecordBytes?: number } = {},
) {
  const records: SourceRecord[] = [];
  let error: unknown;
  try {
    const offset = opts.offset ?? 0;
    for await (const r of readRecords(streamOf(bytes, opts.size, offset), format, {
      offset,
      line: opts.line ?? 1,
      ...(opts.maxRecordBytes ? { maxRecordBytes: opts.maxRecordBytes } : {}),
    }))
      records.push(r);
  } catch (err) {
    error = err;
  }
  return { records, error };
}

// Multi-byte UTF-8, CRLF and LF mixed, quoted delimiters, doubled quotes, quoted CRLF and LF, a blank line.
const SAMPLE = Buffer.from(
  'ID,TITLE,COMMENTS\r\n' +
    '1,Привет,"a, b"\r\n' +
    '2,"He said ""hi""","line one\r\nline two"\n' +
    '\r\n' +
    '3,€ 5,"x\ny\nz"\r\n' +
    '4,😀,last',
);

describe('readRecords', () => {
  it('gives cells, raw text, the start line and byte-exact offsets', async () => {
    const { records, error } = await readAll(SAMPLE, utf8);
    expect(error).toBeUndefined();
    expect(records.map((r) => r.cells)).toEqual([
      ['ID', 'TITLE', 'COMMENTS'],
      ['1', 'Привет', 'a, b'],
      ['2', 'He said "hi"', 'line one\r\nline two'],
      ['3', '€ 5', 'x\ny\nz'],
      ['4', '😀', 'last'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 6, 9]);
    for (const r of records) {
      const bytes = SAMPLE.subarray(r.start, r.end).toString('utf8');
      // The record's bytes are its raw text plus its line break (none at the end of the file).
      expect(bytes.replace(/\r?\n$/, '')).toBe(r.raw);
    }
    expect(records[4].end).toBe(SAMPLE.length);
    expect(records[2].raw).toBe('2,"He said ""hi""","line one\r\nline two"');
  });

  it('gives the same records whatever the chunk size (multi-byte characters and CRLF split across chunks)', async () => {
    const whole = await readAll(SAMPLE, utf8);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      expect((await readAll(SAMPLE, utf8, { size })).records).toEqual(whole.records);
    }
  });

  it('resumes from any record start with the same records as a full read', async () => {
    const { records } = await readAll(SAMPLE, utf8);
    for (let k = 1; k < records.length; k++) {
      const prev = records[k - 1];
      // A chunk resumes at the previous record's end, on the line after it (blank lines are skipped then).
      const tail = await readAll(SAMPLE, utf8, { offset: prev.end, line: lineAfter(prev), size: 4 });
      expect(tail.records).toEqual(records.slice(k));
    }
  });

  it('reads windows-1251 bytes with Cyrillic: cells and raw decoded, offsets in bytes', async () => {
    const text = 'ID;NAME;COMMENTS\r\n1;Иван Петров;"Звонить; после 10"\r\n2;Ёлка;ъ\r\n';
    const bytes = iconv.encode(text, 'win1251');
    const { records, error } = await readAll(bytes, { encoding: 'windows-1251', delimiter: ';' }, { size: 3 });
    expect(error).toBeUndefined();
    expect(records.map((r) => r.cells)).toEqual([
      ['ID', 'NAME', 'COMMENTS'],
      ['1', 'Иван Петров', 'Звонить; после 10'],
      ['2', 'Ёлка', 'ъ'],
    ]);
    expect(records[1].raw).toBe('1;Иван Петров;"Звонить; после 10"');
    expect(records[2].end).toBe(bytes.length);
    expect(iconv.decode(bytes.subarray(records[1].start, records[1].end), 'win1251')).toBe(records[1].raw + '\r\n');
  });

  it('reads tab-separated records and lone-CR line endings', async () => {
    const bytes = Buffer.from('ID\tNAME\r1\tAnn\r2\t"B\tC"\r');
    const { records } = await readAll(bytes, { encoding: 'utf-8', delimiter: '\t' });
    expect(records.map((r) => [r.line, ...r.cells])).toEqual([
      [1, 'ID', 'NAME'],
      [2, '1', 'Ann'],
      [3, '2', 'B\tC'],
    ]);
  });

  it('keeps a record with the wrong number of cells as a record (not an error)', async () => {
    const { records, error } = await readAll(Buffer.from('ID,A,B\n1,x\n2,x,y,z\n'), utf8);
    expect(error).toBeUndefined();
    expect(records.map((r) => r.cells.length)).toEqual([3, 2, 4]);
  });

  it('reads a stray quote inside an unquoted field as text', async () => {
    const { records, error } = await readAll(Buffer.from('ID,NAME\n1,Bob "The Builder" Smith\n'), utf8);
    expect(error).toBeUndefined();
    expect(records[1].cells[1]).toBe('Bob "The Builder" Smith');
  });

  it('stops on an unclosed quote mid-file after every record before it, naming its line', async () => {
    const bytes = Buffer.from('ID,NAME\n1,Ann\n2,"Bob\n3,Cid\n4,Dan\n');
    const { records, error } = await readAll(bytes, utf8, { size: 5 });
    expect(records.map((r) => r.cells[0])).toEqual(['ID', '1']);
    expect(error).toBeInstanceOf(CsvCutShortError);
    expect((error as CsvCutShortError).line).toBe(3);
    expect((error as CsvCutShortError).message).toMatch(/line 3.*unclosed quote/);
  });

  it('stops when one record grows past the record limit (memory stays bounded on an unclosed quote)', async () => {
    const bytes = Buffer.from('ID,NAME\n1,Ann\n\n2,"' + 'x'.repeat(5000) + '\n3,Cid\n');
    const { records, error } = await readAll(bytes, utf8, { size: 256, maxRecordBytes: 1000 });
    expect(records.map((r) => r.cells[0])).toEqual(['ID', '1']);
    expect(error).toBeInstanceOf(CsvCutShortError);
    expect((error as CsvCutShortError).line).toBe(4);
    expect((error as CsvCutShortError).message).toMatch(/1000 bytes/);
  });

  it('lineAfter counts quoted line breaks of every style', () => {
    expect(lineAfter({ line: 5, raw: '1,a' })).toBe(6);
    expect(lineAfter({ line: 5, raw: '1,"a\r\nb\nc\rd"' })).toBe(9);
  });
});
