import type { Readable } from 'node:stream';
import { CsvError, Parser } from 'csv-parse';
import { CsvCutShortError } from '../errors.ts';
import type { SourceRecord } from '../types.ts';
import { betterReading } from '../source/codePage.ts';
import { CR, LF } from './bytes.ts';
import { FooterHold } from './footer.ts';
import { RecordScanner } from './recordScanner.ts';
import { splitCells } from './splitCells.ts';
import { decodeBytes, latin1ToCodePage, type SingleByteEncoding, type TextEncoding } from './text.ts';

/** What `readRecords` needs of the format (the checkpoint keeps exactly this). */
export interface RecordFormat {
  encoding: TextEncoding;
  delimiter: ',' | ';' | '\t';
}

export interface ReadOptions {
  /** Absolute byte offset of the stream's first byte in the source object. */
  offset: number;
  /** Physical line (1-based) the stream's first byte is on. */
  line: number;
  /** Largest cell the run accepts (validation rejects bigger ones); sets the default `maxRecordBytes`. */
  maxCellBytes?: number;
  /**
   * Largest record, bytes; default 16 MiB, or 16 × maxCellBytes if that is more. A record still open past it is
   * a malformed file (an unclosed quote) and stops reading. It bounds memory: a record's raw text is held whole.
   */
  maxRecordBytes?: number;
  /**
   * A record still open after this many bytes (default 1 MiB) is read by the record scanner instead of
   * csv-parse, so a huge cell costs its raw text once, not several copies. Tests set it low.
   */
  scanRecordBytes?: number;
}

/** Bytes handed to the parser at a time (see RecordReader.parse). */
const FEED_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/** Default record limit: far over any real row (16 MiB), and within what the bin's 128 MB heap holds. */
const HARD_RECORD_BYTES = 16 * 1024 * 1024;
/** Records longer than this are read by RecordScanner (see readRecordBatches). */
const SCAN_RECORD_BYTES = 1024 * 1024;
const UNCLOSED_QUOTE = 'a quoted field is never closed (unclosed quote)';

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

/** The parser internals we drive synchronously, so records, byte offsets and lines stay in lockstep. */
interface CsvApi {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
  info: { bytes: number };
}

function newParser(format: RecordFormat): CsvApi {
  const parser = new Parser({
    delimiter: format.delimiter,
    encoding: format.encoding === 'utf-8' ? 'utf8' : 'latin1',
    bom: false,
    relax_column_count: true,
    // A stray quote inside an unquoted field is text (as Excel reads it); only an unclosed quote is an error.
    // RecordScanner and splitCells follow the same rules: keep them in step if these options change.
    relax_quotes: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  return (parser as unknown as { api: CsvApi }).api;
}

const noop = (): void => {};

function cutShortAt(line: number, what: string): CsvCutShortError {
  return new CsvCutShortError(line, `malformed CSV at line ${line}: ${what}; reading stopped there`);
}

/**
 * Source bytes → batches of records, one chunk at a time (see readRecordBatches). csv-parse reads the records
 * and RecordScanner takes over a long one; either way each record keeps its line and absolute byte offsets.
 */
class RecordReader {
  private readonly utf8: boolean;
  private readonly maxRecordBytes: number;
  private readonly scanRecordBytes: number;
  private api: CsvApi;
  /** Absolute offset of the parser's first byte: it restarts after each record the scanner reads. */
  private base: number;
  /** `pend` holds the source bytes from `pendStart` on: at least everything after the last emitted record. */
  private pend: Buffer = EMPTY;
  private pendStart: number;
  /** Absolute end of the last emitted record, and the line the next byte is on. */
  private pos: number;
  private line: number;
  private out: SourceRecord[] = [];
  /** Absolute end of the bytes handed to the parser so far. */
  private fed: number;
  /** Set while a long record is read by the scanner instead of the parser. */
  private scan: RecordScanner | undefined;
  /** Records that may be a report footer wait here until a data row or the end of the source decides. */
  private readonly footer = new FooterHold();

  constructor(
    private readonly format: RecordFormat,
    opts: ReadOptions,
  ) {
    this.utf8 = format.encoding === 'utf-8';
    this.maxRecordBytes = opts.maxRecordBytes ?? Math.max(HARD_RECORD_BYTES, 16 * (opts.maxCellBytes ?? 64 * 1024));
    this.scanRecordBytes = Math.min(this.maxRecordBytes, opts.scanRecordBytes ?? SCAN_RECORD_BYTES);
    this.api = newParser(format);
    this.base = this.pendStart = this.pos = this.fed = opts.offset;
    this.line = opts.line;
  }

  /** Reads one chunk of the source, yielding each batch of records as soon as it is complete. */
  *take(chunk: Buffer): Generator<SourceRecord[]> {
    yield* this.heldBeforeCutShort(this.read(chunk));
  }

  /** At the end of the source: the last records, or the error of a record left open. */
  *end(): Generator<SourceRecord[]> {
    yield* this.heldBeforeCutShort(this.finish());
  }

  /** A malformed record stops reading: the records before it, held ones too (no trailing footer), come first. */
  private *heldBeforeCutShort(records: Generator<SourceRecord[]>): Generator<SourceRecord[]> {
    try {
      yield* records;
    } catch (err) {
      if (err instanceof CsvCutShortError) {
        this.footer.release(this.out);
        if (this.out.length > 0) yield this.flush();
      }
      throw err;
    }
  }

  private *read(chunk: Buffer): Generator<SourceRecord[]> {
    let buf = chunk;
    while (buf.length > 0) {
      if (!this.scan) buf = yield* this.parse(buf);
      else {
        const after = this.feedScanner(this.scan, buf);
        if (after < 0) return; // the record goes on in the next chunk
        yield this.flush();
        buf = buf.subarray(after);
      }
    }
  }

  private *finish(): Generator<SourceRecord[]> {
    if (this.scan) {
      const ended = this.scan.finish();
      if (ended === 'unclosed') throw cutShortAt(this.scan.line, UNCLOSED_QUOTE);
      if (ended === 'record') this.pushScanned(this.scan);
    } else {
      const err = this.api.parse(undefined, true, this.push, noop);
      if (err) throw this.cutShort(err);
    }
    this.footer.end(this.out);
    if (this.out.length > 0) yield this.flush();
  }

  /**
   * Feeds `buf` to csv-parse. Small feeds keep each batch small: records die young instead of being promoted
   * to the old heap while a whole 256 KiB chunk of them waits to be processed (peak memory stays low and flat).
   * Returns the bytes left for the scanner when a record grows long, else nothing.
   */
  private *parse(buf: Buffer): Generator<SourceRecord[], Buffer> {
    this.pend = this.pend.length === 0 ? buf : Buffer.concat([this.pend, buf]);
    for (let i = 0; i < buf.length; i += FEED_BYTES) {
      const piece = buf.subarray(i, i + FEED_BYTES);
      const err = this.api.parse(piece, false, this.push, noop);
      this.fed += piece.length;
      this.dropEmitted();
      if (this.out.length > 0) yield this.flush();
      if (err) throw this.cutShort(err);
      if (this.fed - this.pos > this.scanRecordBytes) return this.startScan();
    }
    return EMPTY;
  }

  /** Only the record in progress stays buffered. */
  private dropEmitted(): void {
    if (this.pos > this.pendStart) {
      this.pend = this.pend.subarray(this.pos - this.pendStart);
      this.pendStart = this.pos;
    }
  }

  /**
   * A long record: the scanner takes over from its first byte (blank lines before it included), with the rest
   * of the chunk, returned; the parser, holding a partial record, is dropped.
   */
  private startScan(): Buffer {
    this.scan = new RecordScanner(this.format.delimiter.charCodeAt(0), this.pos, this.line);
    const rest = this.pend.subarray(this.pos - this.pendStart);
    this.pend = EMPTY;
    this.pendStart = this.pos;
    return rest;
  }

  /** Feeds the scanner; returns the index in `buf` just after the record once it is complete (and emitted), or -1. */
  private feedScanner(scan: RecordScanner, buf: Buffer): number {
    const after = scan.feed(buf);
    if (scan.size > this.maxRecordBytes) {
      throw cutShortAt(scan.line, `the record starting there runs over ${this.maxRecordBytes} bytes (probably an unclosed quote)`);
    }
    if (after >= 0) {
      this.pushScanned(scan);
      this.scan = undefined;
    }
    return after;
  }

  /** The records emitted since the last batch. */
  private flush(): SourceRecord[] {
    const batch = this.out;
    this.out = [];
    return batch;
  }

  private decode(buf: Buffer, from: number, to: number): string {
    return this.utf8 ? buf.toString('utf8', from, to) : decodeBytes(buf.subarray(from, to), this.format.encoding as SingleByteEncoding);
  }

  /** Index in `pend` of the first byte after blank lines starting at `pos`; advances `line` over them. */
  private skipBlank(limit: number): number {
    const { pend } = this;
    let s = this.pos - this.pendStart;
    while (s < limit && (pend[s] === LF || pend[s] === CR)) {
      s += pend[s] === CR && pend[s + 1] === LF ? 2 : 1;
      this.line++;
    }
    return s;
  }

  /** csv-parse's record callback: the record's cells, its bytes found from the parser's byte count. */
  private readonly push = (cells: string[]): void => {
    const end = this.base + this.api.info.bytes;
    const e = end - this.pendStart;
    const s = this.skipBlank(e);
    const { pend } = this;
    let re = e;
    if (re > s && pend[re - 1] === LF) re--;
    if (re > s && pend[re - 1] === CR) re--;
    const raw = this.decode(pend, s, re);
    const rec: SourceRecord = { line: this.line, cells, raw, start: this.pendStart + s, end };
    // A code page is parsed as latin1: each cell is mapped to its text.
    if (!this.utf8) {
      const encoding = this.format.encoding as SingleByteEncoding;
      for (let i = 0; i < cells.length; i++) cells[i] = latin1ToCodePage(cells[i], encoding);
      doubtEncoding(rec, pend.subarray(s, re), encoding);
    }
    this.footer.add(rec, this.out);
    this.line += countBreaks(pend, s, e);
    this.pos = end;
  };

  /** Emits the record the scanner has read whole, and restarts the parser just after it. */
  private pushScanned(sc: RecordScanner): void {
    const bytes = sc.bytes();
    const raw = this.decode(bytes, 0, bytes.length - sc.breakBytes);
    const end = sc.start + bytes.length;
    const rec: SourceRecord = { line: sc.line, cells: splitCells(raw, this.format.delimiter), raw, start: sc.start, end };
    if (!this.utf8) doubtEncoding(rec, bytes.subarray(0, bytes.length - sc.breakBytes), this.format.encoding as SingleByteEncoding);
    this.footer.add(rec, this.out);
    this.line = sc.line + countBreaks(bytes, 0, bytes.length);
    this.pos = end;
    this.api = newParser(this.format);
    this.base = this.fed = this.pendStart = end;
    this.pend = EMPTY;
  }

  private cutShort(err: Error): CsvCutShortError {
    const code = err instanceof CsvError ? err.code : undefined;
    return cutShortAt(this.lineOfPending(), code === 'CSV_QUOTE_NOT_CLOSED' ? UNCLOSED_QUOTE : err.message.replace(/\s*at line \d+/, ''));
  }

  /** Line where the record being parsed (not yet emitted) starts. */
  private lineOfPending(): number {
    if (this.scan) return this.scan.line;
    const saved = this.line;
    this.skipBlank(this.pend.length);
    const at = this.line;
    this.line = saved;
    return at;
  }
}

/**
 * Marks a record whose bytes read badly in the file's code page and better in another (detection saw only the
 * file's head): it must not reach the portal as read.
 */
function doubtEncoding(rec: SourceRecord, bytes: Buffer, encoding: SingleByteEncoding): void {
  const doubt = betterReading(bytes, encoding);
  if (doubt) rec.encodingDoubt = doubt;
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
 * A report footer after the data (Salesforce's "Grand Totals (3 records)", "Confidential Information…") comes
 * out marked `footer`, and a record that reads better in another code page than the file's marked
 * `encodingDoubt`; both are decided here, where the bytes and the end of the source are known (see FooterHold).
 *
 * A huge record (a 10 MB cell) is a row problem, not a file problem: once a record is `scanRecordBytes` long,
 * csv-parse is dropped and `RecordScanner` finds the record's end by its quotes alone, keeping only its bytes;
 * the record comes out whole (validation then rejects the big cell as CELL_TOO_LARGE) and csv-parse restarts
 * at the exact byte after it. Only a record past `maxRecordBytes` (in practice an unclosed quote) stops reading.
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
  const reader = new RecordReader(format, opts);
  try {
    for await (const chunk of stream) yield* reader.take(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    yield* reader.end();
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
