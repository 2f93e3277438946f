import { CR, DQ, LF } from './bytes.ts';

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
export class RecordScanner {
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
