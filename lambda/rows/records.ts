import type { Readable } from 'node:stream';
import { CsvError, Parser } from 'csv-parse';
import iconv from 'iconv-lite';
import { CsvCutShortError } from '../errors.ts';
import type { SourceRecord } from '../types.ts';
import { latin1ToCp1251, type TextEncoding } from './text.ts';

// Kept for importers not yet switched to rows/text.ts.
export { decodeBytes, encodeText } from './text.ts';

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

/** The parser internals we drive synchronously, so records, byte offsets and lines stay in lockstep. */
interface CsvApi {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
  info: { bytes: number };
}

/** Bytes handed to the parser at a time (see readRecordBatches). */
const FEED_BYTES = 16 * 1024;
const LF = 10;
const CR = 13;
const DQ = 34;
const EMPTY = Buffer.alloc(0);
/** Default record limit: far over any real row (16 MiB), and within what the bin's 128 MB heap holds. */
const HARD_RECORD_BYTES = 16 * 1024 * 1024;
/** Records longer than this are read by RecordScanner (see readRecordBatches). */
const SCAN_RECORD_BYTES = 1024 * 1024;

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

/** Scanner states. Before the record: blank lines are skipped (…_CR: an LF now ends the same line break). */
const BLANK = 0;
const BLANK_CR = 1;
/** At a field's first byte; in an unquoted field; in a quoted one; just after a quote inside a quoted one. */
const FIELD = 2;
const PLAIN = 3;
const QUOTED = 4;
const QUOTE = 5;
/** The record ended on a CR: an LF right after it belongs to the record. */
const AFTER_CR = 6;
/** The record is complete. */
const DONE = 7;

/**
 * Finds where one record ends by csv-parse's own rules (as configured in readRecordBatches: relax_quotes,
 * `"` as quote and escape, CRLF / LF / CR breaks, blank lines skipped) without parsing its cells, and keeps its
 * bytes. It starts at the first byte after the last emitted record (blank lines first, if any).
 */
class RecordScanner {
  /** Absolute offset of the record's first byte (after blank lines) and the line it is on. */
  start: number;
  line: number;
  /** Record bytes kept so far (its line break included, once seen), and how many of them are the line break. */
  size = 0;
  breakBytes = 0;
  private parts: Buffer[] = [];
  private state = BLANK;

  constructor(
    private readonly delimiter: number,
    at: number,
    line: number,
  ) {
    this.start = at;
    this.line = line;
  }

  /** Takes the next bytes; returns the index in `buf` just after the record (line break included), or -1. */
  feed(buf: Buffer): number {
    const n = buf.length;
    const d = this.delimiter;
    let st = this.state;
    let i = 0;
    if (st === BLANK || st === BLANK_CR) {
      for (; i < n; i++) {
        const c = buf[i];
        if (c === CR) this.line++;
        else if (c !== LF) break;
        else if (st === BLANK) this.line++;
        st = c === CR ? BLANK_CR : BLANK;
      }
      this.start += i;
      if (i === n) {
        this.state = st;
        return -1;
      }
      st = FIELD;
    }
    const from = i;
    let end = -1;
    for (; i < n && end < 0; i++) {
      const c = buf[i];
      switch (st) {
        case QUOTED: {
          // Inside quotes only a quote matters: jump to the next one.
          const q = buf.indexOf(DQ, i);
          if (q < 0) i = n - 1;
          else {
            i = q;
            st = QUOTE;
          }
          break;
        }
        case QUOTE:
          // `""` is a quote inside the field; a quote before a delimiter, a line break or the end closes it;
          // before anything else csv-parse (relax_quotes) keeps both as text and the field goes on unquoted.
          if (c === DQ) st = QUOTED;
          else if (c === d) st = FIELD;
          else if (c === LF) end = i + 1;
          else if (c === CR) st = AFTER_CR;
          else st = PLAIN;
          break;
        case AFTER_CR:
          end = c === LF ? i + 1 : i;
          this.breakBytes = c === LF ? 2 : 1;
          break;
        default: // FIELD or PLAIN
          if (c === d) st = FIELD;
          else if (c === LF) end = i + 1;
          else if (c === CR) st = AFTER_CR;
          else if (c === DQ && st === FIELD) st = QUOTED;
          else st = PLAIN;
      }
    }
    const stop = end < 0 ? n : end;
    this.parts.push(buf.subarray(from, stop));
    this.size += stop - from;
    if (end < 0) {
      this.state = st;
      return -1;
    }
    if (st !== AFTER_CR) this.breakBytes = 1; // a lone LF
    this.state = DONE;
    return end;
  }

  /** At the end of the input: a record that ends there, no record (only blank lines), or an unclosed quote. */
  finish(): 'record' | 'none' | 'unclosed' {
    const st = this.state;
    if (st === BLANK || st === BLANK_CR) return 'none';
    if (st === QUOTED) return 'unclosed';
    this.breakBytes = st === AFTER_CR ? 1 : 0;
    this.state = DONE;
    return 'record';
  }

  /** The record's bytes, its line break included. */
  bytes(): Buffer {
    return this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
  }
}

/**
 * One record's raw text → its cells, exactly as csv-parse reads them (see RecordScanner): a quoted field loses
 * its quotes and `""` becomes `"`; a quote closed early (`"a"b`) keeps both quotes and the rest, as text.
 * Cells are slices of `raw`, not copies (unless they hold `""`), so a huge cell costs no second copy.
 */
export function splitCells(raw: string, delimiter: string): string[] {
  const cells: string[] = [];
  const n = raw.length;
  let i = 0;
  for (;;) {
    let stop: number;
    if (raw.charCodeAt(i) === DQ) {
      let q = raw.indexOf('"', i + 1);
      let escaped = false;
      while (q >= 0 && raw.charCodeAt(q + 1) === DQ) {
        escaped = true;
        q = raw.indexOf('"', q + 2);
      }
      if (q < 0) q = n; // not reached for a record the scanner completed: its quotes are closed
      let cell = raw.slice(i + 1, q);
      if (escaped) cell = cell.replaceAll('""', '"');
      if (q + 1 >= n || raw[q + 1] === delimiter) stop = q + 1;
      else {
        // Closed early: csv-parse keeps the text after the quote (and, unless it is a NUL, both quotes).
        stop = raw.indexOf(delimiter, q + 1);
        if (stop < 0) stop = n;
        const tail = raw.slice(q + 1, stop);
        cell = raw.charCodeAt(q + 1) === 0 ? cell + tail : `"${cell}"${tail}`;
      }
      cells.push(cell);
    } else {
      stop = raw.indexOf(delimiter, i);
      if (stop < 0) stop = n;
      cells.push(raw.slice(i, stop));
    }
    if (stop >= n) return cells;
    i = stop + 1; // past the delimiter; a trailing one leaves an empty last cell
    if (i === n) {
      cells.push('');
      return cells;
    }
  }
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
  const utf8 = format.encoding === 'utf-8';
  const maxRecordBytes = opts.maxRecordBytes ?? Math.max(HARD_RECORD_BYTES, 16 * (opts.maxCellBytes ?? 64 * 1024));
  const scanRecordBytes = Math.min(maxRecordBytes, opts.scanRecordBytes ?? SCAN_RECORD_BYTES);
  const newParser = (): CsvApi =>
    (
      new Parser({
        delimiter: format.delimiter,
        encoding: utf8 ? 'utf8' : 'latin1',
        bom: false,
        relax_column_count: true,
        // A stray quote inside an unquoted field is text (as Excel reads it); only an unclosed quote is an error.
        // RecordScanner and splitCells follow the same rules: keep them in step if these options change.
        relax_quotes: true,
        skip_empty_lines: true,
        record_delimiter: ['\r\n', '\n', '\r'],
      }) as unknown as { api: CsvApi }
    ).api;
  let api = newParser();
  /** Absolute offset of the parser's first byte: it restarts after each record the scanner reads. */
  let base = opts.offset;

  // `pend` holds the source bytes from `pendStart` on: at least everything after the last emitted record.
  let pend = EMPTY;
  let pendStart = opts.offset;
  /** Absolute end of the last emitted record, and the line the next byte is on. */
  let pos = opts.offset;
  let line = opts.line;
  let out: SourceRecord[] = [];
  /** Absolute end of the bytes handed to the parser so far. */
  let fed = opts.offset;
  /** Set while a long record is read by the scanner instead of the parser. */
  let scan: RecordScanner | undefined;

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
    const end = base + api.info.bytes;
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

  /** Emits the record the scanner has read whole, and restarts the parser just after it. */
  const pushScanned = (sc: RecordScanner): void => {
    const bytes = sc.bytes();
    const rawEnd = bytes.length - sc.breakBytes;
    const raw = utf8 ? bytes.toString('utf8', 0, rawEnd) : iconv.decode(bytes.subarray(0, rawEnd), 'win1251');
    const end = sc.start + bytes.length;
    out.push({ line: sc.line, cells: splitCells(raw, format.delimiter), raw, start: sc.start, end });
    line = sc.line + countBreaks(bytes, 0, bytes.length);
    pos = end;
    api = newParser();
    base = end;
    fed = end;
    pend = EMPTY;
    pendStart = end;
  };

  const cutShort = (err: Error): CsvCutShortError => {
    const at = lineOfPending();
    const code = err instanceof CsvError ? err.code : undefined;
    const what =
      code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted field is never closed (unclosed quote)' : err.message.replace(/\s*at line \d+/, '');
    return new CsvCutShortError(at, `malformed CSV at line ${at}: ${what}; reading stopped there`);
  };
  /** Line where the record being parsed (not yet emitted) starts. */
  const lineOfPending = (): number => {
    if (scan) return scan.line;
    const saved = line;
    skipBlank(pend.length);
    const at = line;
    line = saved;
    return at;
  };
  const tooLong = (at: number): CsvCutShortError =>
    new CsvCutShortError(
      at,
      `malformed CSV at line ${at}: the record starting there runs over ${maxRecordBytes} bytes (probably an unclosed quote); reading stopped there`,
    );

  try {
    for await (const chunk of stream) {
      let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      while (buf.length > 0) {
        if (scan) {
          const after = scan.feed(buf);
          if (scan.size > maxRecordBytes) throw tooLong(scan.line);
          if (after < 0) break; // the record goes on in the next chunk
          pushScanned(scan);
          scan = undefined;
          yield out;
          out = [];
          buf = buf.subarray(after);
          continue;
        }
        pend = pend.length === 0 ? buf : Buffer.concat([pend, buf]);
        let rest = EMPTY;
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
          if (fed - pos > scanRecordBytes) {
            // A long record: the scanner takes over from its first byte (blank lines before it included),
            // with the rest of this chunk; the parser, holding a partial record, is dropped.
            scan = new RecordScanner(format.delimiter.charCodeAt(0), pos, line);
            rest = pend.subarray(pos - pendStart);
            pend = EMPTY;
            pendStart = pos;
            break;
          }
        }
        buf = rest;
      }
    }
    if (scan) {
      const ended = scan.finish();
      if (ended === 'unclosed') {
        throw new CsvCutShortError(
          scan.line,
          `malformed CSV at line ${scan.line}: a quoted field is never closed (unclosed quote); reading stopped there`,
        );
      }
      if (ended === 'record') pushScanned(scan);
    } else {
      const err = api.parse(undefined, true, push, () => {});
      if (out.length > 0) {
        yield out;
        out = [];
      }
      if (err) throw cutShort(err);
    }
    if (out.length > 0) yield out;
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
