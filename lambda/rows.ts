import type { Readable } from 'node:stream';
import { Parser } from 'csv-parse';
import iconv from 'iconv-lite';
import { CsvCutShortError } from './errors.ts';
import type { SourceRecord } from './types.ts';

/** What `readRecords` needs of the format (the checkpoint keeps exactly this). */
export interface RecordFormat {
  encoding: 'utf-8' | 'windows-1251';
  delimiter: ',' | ';' | '\t';
}

export interface ReadOptions {
  /** Absolute byte offset of the stream's first byte in the source object. */
  offset: number;
  /** Physical line (1-based) the stream's first byte is on. */
  line: number;
  /** Largest cell the run accepts; a record longer than `maxRecordBytes` stops reading (an unclosed quote). */
  maxCellBytes?: number;
  /** Largest record, bytes; default 16 × maxCellBytes, at least 1 MiB. Bounds memory on an unclosed quote. */
  maxRecordBytes?: number;
}

/** The parser internals we drive synchronously, so records, byte offsets and lines stay in lockstep. */
interface CsvApi {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
  info: { bytes: number };
}

/** Bytes handed to the parser at a time (see readRecordBatches). */
const FEED_BYTES = 16 * 1024;
const LF = 10;
const CR = 13;

/** windows-1251 byte → character, built once from iconv-lite (the table is 256 characters). */
const CP1251 = iconv.decode(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), 'win1251');
const NON_ASCII = /[\x80-\xff]/;

/** A latin1 string (one char per byte) → the windows-1251 text those bytes mean. */
function latin1ToCp1251(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) out += CP1251[s.charCodeAt(i)];
  return out;
}

/** Decodes source bytes in the file's encoding. */
export function decodeBytes(bytes: Uint8Array, encoding: RecordFormat['encoding']): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return encoding === 'utf-8' ? buf.toString('utf8') : iconv.decode(buf, 'win1251');
}

/** Encodes text back into the file's encoding (rejected.csv is written the way the user's file was). */
export function encodeText(text: string, encoding: RecordFormat['encoding']): Buffer {
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'win1251');
}

/**
 * The line the record after `rec` starts on (before any blank lines): its own line, its quoted line breaks,
 * and its terminating one.
 */
export function lineAfter(rec: Pick<SourceRecord, 'line' | 'raw'>): number {
  const { raw } = rec;
  if (raw.indexOf('\n') === -1 && raw.indexOf('\r') === -1) return rec.line + 1;
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === LF || (c === CR && raw.charCodeAt(i + 1) !== LF)) n++;
  }
  return rec.line + n + 1;
}

/** Line breaks (CRLF, LF or a lone CR) in buf[from, to). */
function countBreaks(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(LF, from); i !== -1 && i < to; i = buf.indexOf(LF, i + 1)) n++;
  for (let i = buf.indexOf(CR, from); i !== -1 && i < to; i = buf.indexOf(CR, i + 1)) {
    if (i + 1 >= to || buf[i + 1] !== LF) n++;
  }
  return n;
}

/**
 * Streams CSV records from `stream` (which starts at byte `offset` of the source), in batches, each record
 * with its physical start line and exact absolute byte offsets, so a later chunk can resume at `end`.
 * Blank lines are not records. A malformed file (an unclosed quote…) yields every record before the bad one,
 * then throws CsvCutShortError naming the line where the bad record starts.
 *
 * windows-1251 is parsed as latin1 (one byte = one char: offsets stay exact and the ASCII delimiter, quote
 * and line breaks are the same bytes), then each cell is mapped to its Cyrillic text.
 *
 * @example
 * for await (const batch of readRecordBatches(fs.createReadStream(file, { start: 9 }), fmt, { offset: 9, line: 2 }))
 *   for (const r of batch) console.log(r.line, r.cells);
 */
export async function* readRecordBatches(
  stream: Readable | AsyncIterable<Buffer | string>,
  format: RecordFormat,
  opts: ReadOptions,
): AsyncGenerator<SourceRecord[]> {
  const utf8 = format.encoding === 'utf-8';
  const maxRecordBytes = opts.maxRecordBytes ?? Math.max(1024 * 1024, 16 * (opts.maxCellBytes ?? 64 * 1024));
  const parser = new Parser({
    delimiter: format.delimiter,
    encoding: utf8 ? 'utf8' : 'latin1',
    bom: false,
    relax_column_count: true,
    // A stray quote inside an unquoted field is text (as Excel reads it); only an unclosed quote is an error.
    relax_quotes: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  const api = (parser as unknown as { api: CsvApi }).api;

  // `pend` holds the source bytes from `pendStart` on: at least everything after the last emitted record.
  let pend = Buffer.alloc(0);
  let pendStart = opts.offset;
  /** Absolute end of the last emitted record, and the line the next byte is on. */
  let pos = opts.offset;
  let line = opts.line;
  let out: SourceRecord[] = [];

  /** Index in `pend` of the first byte after blank lines starting at `pos`; advances `line` over them. */
  const skipBlank = (limit: number): number => {
    let s = pos - pendStart;
    while (s < limit && (pend[s] === LF || pend[s] === CR)) {
      s += pend[s] === CR && pend[s + 1] === LF ? 2 : 1;
      line++;
    }
    return s;
  };

  const push = (cells: string[]): void => {
    const end = opts.offset + api.info.bytes;
    const e = end - pendStart;
    const s = skipBlank(e);
    let re = e;
    if (re > s && pend[re - 1] === LF) re--;
    if (re > s && pend[re - 1] === CR) re--;
    const raw = utf8 ? pend.toString('utf8', s, re) : iconv.decode(pend.subarray(s, re), 'win1251');
    if (!utf8) for (let i = 0; i < cells.length; i++) cells[i] = latin1ToCp1251(cells[i]);
    out.push({ line, cells, raw, start: pendStart + s, end });
    line += countBreaks(pend, s, e);
    pos = end;
  };

  const cutShort = (err: Error): CsvCutShortError => {
    const at = lineOfPending();
    const code = (err as { code?: string }).code;
    const what =
      code === 'CSV_QUOTE_NOT_CLOSED'
        ? 'a quoted field is never closed (unclosed quote)'
        : err.message.replace(/\s*at line \d+/, '');
    return new CsvCutShortError(at, `malformed CSV at line ${at}: ${what}; reading stopped there`);
  };
  /** Line where the record being parsed (not yet emitted) starts. */
  const lineOfPending = (): number => {
    const saved = line;
    skipBlank(pend.length);
    const at = line;
    line = saved;
    return at;
  };

  /** Absolute end of the bytes handed to the parser so far. */
  let fed = opts.offset;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      pend = pend.length === 0 ? buf : Buffer.concat([pend, buf]);
      // Small feeds keep each batch small: records die young instead of being promoted to the old heap
      // while a whole 256 KiB chunk of them waits to be processed (peak memory stays low and flat).
      for (let i = 0; i < buf.length; i += FEED_BYTES) {
        const piece = buf.subarray(i, i + FEED_BYTES);
        const err = api.parse(piece, false, push, () => {});
        fed += piece.length;
        // Drop what is already emitted: only the record in progress stays buffered.
        if (pos > pendStart) {
          pend = pend.subarray(pos - pendStart);
          pendStart = pos;
        }
        if (out.length > 0) {
          yield out;
          out = [];
        }
        if (err) throw cutShort(err);
        if (fed - pos > maxRecordBytes) {
          const at = lineOfPending();
          throw new CsvCutShortError(
            at,
            `malformed CSV at line ${at}: the record starting there runs over ${maxRecordBytes} bytes (probably an unclosed quote); reading stopped there`,
          );
        }
      }
    }
    const err = api.parse(undefined, true, push, () => {});
    if (out.length > 0) {
      yield out;
      out = [];
    }
    if (err) throw cutShort(err);
  } finally {
    if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
  }
}

/** One record at a time (convenience over `readRecordBatches`). */
export async function* readRecords(
  stream: Readable | AsyncIterable<Buffer | string>,
  format: RecordFormat,
  opts: ReadOptions,
): AsyncGenerator<SourceRecord> {
  for await (const batch of readRecordBatches(stream, format, opts)) yield* batch;
}
