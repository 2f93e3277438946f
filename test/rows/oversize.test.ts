import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../lambda/config.ts';
import { CsvCutShortError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import { compileRows } from '../../lambda/payloads/compile.ts';
import { lineAfter, readRecords, type ReadOptions, type RecordFormat } from '../../lambda/rows/records.ts';
import type { RowCheck, SourceRecord } from '../../lambda/types.ts';
import { expectConsistent, fixture, readRun, runCli } from '../support/badinput.ts';

/**
 * A record far over the record limit (a 10 MB cell) is one invalid row (CELL_TOO_LARGE), not a malformed file:
 * the records after it are read with exact offsets and lines. Only an unclosed quote (to the end of the file,
 * or past the hard record limit) stops reading.
 */

const utf8: RecordFormat = { encoding: 'utf-8', delimiter: ',' };
const MiB = 1024 * 1024;
const TEN = 10 * MiB;

function streamOf(bytes: Buffer, size: number, from = 0): Readable {
  const chunks: Buffer[] = [];
  for (let i = from; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

interface Read {
  records: SourceRecord[];
  error?: CsvCutShortError;
}

async function readAll(bytes: Buffer, format: RecordFormat, o: Partial<ReadOptions> & { size?: number } = {}): Promise<Read> {
  const { size = 64 * 1024, offset = 0, line = 1, ...rest } = o;
  const records: SourceRecord[] = [];
  try {
    for await (const r of readRecords(streamOf(bytes, size, offset), format, { offset, line, ...rest })) records.push(r);
  } catch (err) {
    if (!(err instanceof CsvCutShortError)) throw err;
    return { records, error: err };
  }
  return { records };
}

/** Each record's bytes are its raw text plus its line break; lines follow from the ones before. */
function expectExact(bytes: Buffer, records: SourceRecord[], decode: (b: Buffer) => string = (b) => b.toString('utf8')) {
  for (const r of records) {
    expect(decode(bytes.subarray(r.start, r.end)).replace(/(\r\n|\r|\n)$/, '')).toBe(r.raw);
  }
  for (let k = 1; k < records.length; k++) expect(records[k].start).toBeGreaterThanOrEqual(records[k - 1].end);
}

/** The engine's row check for a header (default options: maxCellBytes 64 KiB). */
function checkerFor(header: string[]): (r: SourceRecord) => RowCheck {
  const options = parseRunOptions({});
  const catalogue = standardCatalogue();
  return compileRows(resolveHeader(header, { mapping: options.mapping, catalogue }), options, catalogue, header.length);
}

describe('a record over the record limit', () => {
  it('a 10 MiB quoted cell (default limits): three rows, the big one CELL_TOO_LARGE with its true size, the others valid', async () => {
    const big = 'z'.repeat(TEN);
    const bytes = Buffer.from(`ID,TITLE,COMMENTS\n1,a,b\n2,"${big}",c\n3,d,e\n`);
    const { records, error } = await readAll(bytes, utf8);
    expect(error).toBeUndefined();
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4]);
    expect(records.map((r) => r.cells[0])).toEqual(['ID', '1', '2', '3']);
    expect(records[2].cells[1].length).toBe(TEN);
    expect(records[2].cells[2]).toBe('c');
    expect(records[2].raw).toBe(`2,"${big}",c`);
    expect(records[3].end).toBe(bytes.length);
    expectExact(bytes, records);

    const check = checkerFor(records[0].cells);
    const [r2, r3, r4] = records.slice(1).map(check);
    expect(r2.ok && r4.ok).toBe(true);
    expect(r3.ok).toBe(false);
    if (!r3.ok) {
      expect(r3.outcome).toMatchObject({ line: 3, id: '2', status: 'invalid', errorCode: 'CELL_TOO_LARGE' });
      expect(r3.outcome.message).toMatch(/^line 3, TITLE: the cell is 10485760 bytes, over the 65536-byte limit/);
    }
  });

  it('an oversize unquoted cell at the very end of the file, without a line break', async () => {
    const bytes = Buffer.from(`ID,TITLE\r\n1,a\r\n2,${'q'.repeat(2 * MiB)}`);
    const { records, error } = await readAll(bytes, utf8, { size: 1000 });
    expect(error).toBeUndefined();
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(records[2].cells).toEqual(['2', 'q'.repeat(2 * MiB)]);
    expect(records[2].end).toBe(bytes.length);
    expectExact(bytes, records);
  });

  it('two oversize rows in a row, then normal rows, split across any chunk boundary', async () => {
    const a = 'a'.repeat(MiB + 7);
    const b = 'b'.repeat(MiB + 13);
    const bytes = Buffer.from(`ID,TITLE\n1,"${a}"\r\n2,${b}\n\n3,x\n4,y`);
    for (const size of [4093, 65536]) {
      const { records, error } = await readAll(bytes, utf8, { size });
      expect(error).toBeUndefined();
      expect(records.map((r) => [r.line, r.cells[0], r.cells[1].length])).toEqual([
        [1, 'ID', 5],
        [2, '1', a.length],
        [3, '2', b.length],
        [5, '3', 1],
        [6, '4', 1],
      ]);
      expectExact(bytes, records);
    }
  });

  it('an oversize quoted cell holding line breaks and doubled quotes: the lines of later rows stay right', async () => {
    // Two line breaks of each style (CRLF, LF, lone CR) inside the cell: the record spans 7 physical lines.
    const cell = 'x'.repeat(700_000) + '\r\n"" \n' + 'y'.repeat(700_000) + '\r\r\n""\n\r' + 'z'.repeat(10);
    const quoted = `"${cell.replaceAll('"', '""')}"`;
    const bytes = Buffer.from(`ID,COMMENTS\n1,${quoted}\n2,ok\r\n\r\n3,"two\nlines"\n4,end\n`);
    const { records, error } = await readAll(bytes, utf8);
    expect(error).toBeUndefined();
    expect(records[1].cells[1]).toBe(cell);
    expect(records.map((r) => [r.line, r.cells[0]])).toEqual([
      [1, 'ID'],
      [2, '1'],
      [9, '2'],
      [11, '3'],
      [13, '4'],
    ]);
    expect(lineAfter(records[1])).toBe(9);
    expectExact(bytes, records);
  });

  it('windows-1251: the oversize cell and its raw text are Cyrillic, offsets in bytes', async () => {
    const big = 'Ж'.repeat(MiB + 1);
    const text = `ID;NAME;COMMENTS\r\n1;Иван;"${big}"\r\n2;Ёлка;ъ\r\n`;
    const bytes = iconv.encode(text, 'win1251');
    const fmt: RecordFormat = { encoding: 'windows-1251', delimiter: ';' };
    const { records, error } = await readAll(bytes, fmt, { size: 777 });
    expect(error).toBeUndefined();
    expect(records.map((r) => [r.line, r.cells[0], r.cells[1]])).toEqual([
      [1, 'ID', 'NAME'],
      [2, '1', 'Иван'],
      [3, '2', 'Ёлка'],
    ]);
    expect(records[1].cells[2]).toBe(big);
    expect(records[1].raw).toBe(`1;Иван;"${big}"`);
    expect(records[2].end).toBe(bytes.length);
    expectExact(bytes, records, (b) => iconv.decode(b, 'win1251'));
    const r = checkerFor(records[0].cells)(records[1]);
    // The limit is on the UTF-8 bytes sent to the portal: 2 per Cyrillic letter.
    expect(r.ok ? '' : r.outcome.message).toMatch(/COMMENTS: the cell is 2097154 bytes, over the 65536-byte limit/);
  });

  it('a chunk resuming just after an oversize record reads the same records as a full read', async () => {
    const bytes = Buffer.from(`ID,TITLE\n1,"${'m'.repeat(MiB + 5)}\nstill"\n\n2,a\n3,b\n`);
    const full = await readAll(bytes, utf8, { size: 5000 });
    const big = full.records[1];
    const tail = await readAll(bytes, utf8, { offset: big.end, line: lineAfter(big), size: 3 });
    expect(tail.records).toEqual(full.records.slice(2));
    expect(tail.records.map((r) => r.line)).toEqual([5, 6]);
  });

  it('blank lines longer than the scan threshold are skipped, not taken for a record', async () => {
    const bytes = Buffer.from('ID,A\n1,x\n' + '\r\n'.repeat(600) + '\n'.repeat(300) + '2,y\n');
    const { records, error } = await readAll(bytes, utf8, { scanRecordBytes: 100, size: 64 });
    expect(error).toBeUndefined();
    expect(records.map((r) => [r.line, ...r.cells])).toEqual([
      [1, 'ID', 'A'],
      [2, '1', 'x'],
      [903, '2', 'y'],
    ]);
    expectExact(bytes, records);
  });
});

describe('a malformed file still stops reading', () => {
  it('an unclosed quote running to the end of the file names the line where its record starts', async () => {
    const bytes = Buffer.from(`ID,NAME\n1,Ann\n\n2,"${'x'.repeat(2 * MiB)}\n3,Cid\n4,Dan\n`);
    const { records, error } = await readAll(bytes, utf8);
    expect(records.map((r) => r.cells[0])).toEqual(['ID', '1']);
    expect(error).toBeInstanceOf(CsvCutShortError);
    expect(error!.line).toBe(4);
    expect(error!.message).toMatch(/^malformed CSV at line 4: a quoted field is never closed \(unclosed quote\)/);
  });

  it('a record past the hard limit stops reading there, before the rest of it is read', async () => {
    const bytes = Buffer.from(`ID,NAME\n1,Ann\n2,"${'x'.repeat(3 * MiB)}"\n3,Cid\n`);
    let chunksRead = 0;
    const chunks = (async function* () {
      for (let i = 0; i < bytes.length; i += 64 * 1024) {
        chunksRead++;
        yield bytes.subarray(i, i + 64 * 1024);
      }
    })();
    const records: SourceRecord[] = [];
    const err = await (async () => {
      for await (const r of readRecords(chunks, utf8, { offset: 0, line: 1, maxRecordBytes: MiB })) records.push(r);
    })().catch((e: unknown) => e);
    expect(records.map((r) => r.cells[0])).toEqual(['ID', '1']);
    expect(err).toBeInstanceOf(CsvCutShortError);
    expect((err as CsvCutShortError).line).toBe(3);
    expect((err as CsvCutShortError).message).toMatch(/runs over 1048576 bytes/);
    // Memory stays bounded: reading stopped about one record limit into the record.
    expect(chunksRead).toBeLessThanOrEqual(MiB / (64 * 1024) + 2);
  });
});

describe('the record scanner reads exactly what csv-parse reads', () => {
  const corpus: [string, RecordFormat][] = [
    ['ID,TITLE,COMMENTS\r\n1,Привет,"a, b"\r\n2,"He said ""hi""","line one\r\nline two"\n\r\n3,€ 5,"x\ny\nz"\r\n4,😀,last', utf8],
    ['a,b\n"x"y,"p"""q,r\n"",,""\n"a"\0b,c\n,\n', utf8],
    ['a,b\r"open ""quoted"" and closed",\r\r\n"end"', utf8],
    ['a\tb\r1\t"B\tC"\r2\tBob "The Builder"\r', { encoding: 'utf-8', delimiter: '\t' }],
    ['a;b\r\n1;"Иван; Петров"\r\n"ъ""ы";Ёлка""x\r\n', { encoding: 'windows-1251', delimiter: ';' }],
    ['a,b\n1,"unclosed\n2,x\n', utf8],
    ['a,b\n1,x\n"', utf8],
  ];
  const encode = (text: string, f: RecordFormat) => (f.encoding === 'utf-8' ? Buffer.from(text) : iconv.encode(text, 'win1251'));
  const summary = (r: Read) => ({ records: r.records, error: r.error && [r.error.line, r.error.message] });

  it('on a corpus of quoting edge cases, whatever the chunk size and scan threshold', async () => {
    for (const [text, f] of corpus) {
      const bytes = encode(text, f);
      const parsed = summary(await readAll(bytes, f));
      for (const size of [1, 2, 3, 7, 64]) {
        for (const scanRecordBytes of [1, 4, 9]) {
          expect(
            summary(await readAll(bytes, f, { size, scanRecordBytes })),
            `${JSON.stringify(text)} size ${size} scan ${scanRecordBytes}`,
          ).toEqual(parsed);
        }
      }
    }
  });

  it('on random files of quotes, delimiters, line breaks, NULs and Cyrillic', async () => {
    let seed = 20240611;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'b', '"', '"', ',', ',', '\n', '\r', '\r\n', 'я', '\0', ' '];
    for (let t = 0; t < 400; t++) {
      let text = '';
      const len = 1 + rand(60);
      for (let i = 0; i < len; i++) text += alphabet[rand(alphabet.length)];
      const f = t % 4 === 3 ? ({ encoding: 'windows-1251', delimiter: ',' } as const) : utf8;
      const bytes = encode(text, f);
      const parsed = summary(await readAll(bytes, f));
      const size = 1 + rand(9);
      const scanRecordBytes = 1 + rand(12);
      expect(
        summary(await readAll(bytes, f, { size, scanRecordBytes })),
        `${JSON.stringify(text)} size ${size} scan ${scanRecordBytes}`,
      ).toEqual(parsed);
    }
  });
});

describe('through the CLI', () => {
  it('10 MB cells, quoted and not (default limits): those rows CELL_TOO_LARGE, the rest processed, rejected.csv byte-exact, in a 48 MB heap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rows-oversize-'));
    try {
      const f = fixture('ID,TITLE,COMMENTS', ['1,a,b', `2,"${'z'.repeat(TEN)}",c`, '3,d,e', `4,${'q'.repeat(TEN)},f`, '5,g,h']);
      await writeFile(join(dir, 'ten.csv'), f.bytes);
      const r = await runCli(dir, ['ten.csv', '--dry-run', '--out', 'o'], {}, ['--max-old-space-size=48']);
      expect(r.stderr).not.toMatch(/heap out of memory/);
      expect(r.code).toBe(1); // invalid rows
      const run = await readRun(join(dir, 'o'));
      expect(run.summary).toMatchObject({ rows: 5, complete: true });
      expect(run.summary.cutShort).toBeUndefined();
      expect(run.report.map((x) => x.error_code)).toEqual(['', 'CELL_TOO_LARGE', '', 'CELL_TOO_LARGE', '']);
      expect(run.report[1].error_message).toMatch(/^line 3, TITLE: the cell is 10485760 bytes, over the 65536-byte limit/);
      expect(run.report[3].error_message).toMatch(/^line 5, TITLE: the cell is 10485760 bytes, over the 65536-byte limit/);
      expectConsistent(run, f);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
