import { isRejected } from './lines.ts';
import type { RowStatus } from '../types.ts';

/** One `invalid` or `failed` row as report.html lists it. */
export interface ProblemRow {
  line: string;
  id: string;
  status: string;
  code: string;
  /** The column the message names (`line 42, EMAIL_WORK: …`), or '' when it names none. */
  column: string;
  message: string;
}

/** What report.html needs from report.csv: the first problem rows, how many more, one example message per code. */
export interface ProblemDigest {
  rows: ProblemRow[];
  /** Problem rows past `rows`: in report.csv only. */
  more: number;
  /** The first message seen for each error code (at most MAX_EXAMPLES codes). */
  examples: Record<string, string>;
}

/** The table keeps this many rows, so a 1 M-row run's page stays a few hundred KB. */
export const MAX_PROBLEM_ROWS = 1000;
const MAX_EXAMPLES = 50;
/** A message's first problem names its column: `line 42, EMAIL_WORK: "bob@" is not…`. */
const COLUMN_OF = /^line \d+, ([^:]{1,200}): /;

/**
 * Reads report.csv lines as they stream past (finalize writes the report anyway; this only watches), keeping
 * what report.html shows. Report lines are one physical line each (control characters are written as \uXXXX),
 * so splitting at line breaks and reading RFC 4180 cells is enough.
 *
 * @example
 * const digest = problemDigest(); digest.feed(Buffer.from('2,7,failed,NOT_FOUND,Not found,1\r\n')); digest.result().rows[0].code // → 'NOT_FOUND'
 */
export function problemDigest(limit = MAX_PROBLEM_ROWS): { feed(chunk: Buffer | string): void; result(): ProblemDigest } {
  const digest: ProblemDigest = { rows: [], more: 0, examples: {} };
  let rest = '';
  let header = true;
  const take = (text: string) => {
    if (header) {
      header = false; // report.csv's own header line
      return;
    }
    if (text !== '') note(digest, readCsvLine(text), limit);
  };
  return {
    feed(chunk) {
      const lines = (rest + chunk.toString()).split('\r\n');
      rest = lines.pop() ?? '';
      for (const text of lines) take(text);
    },
    result() {
      if (rest !== '') take(rest);
      rest = '';
      return digest;
    },
  };
}

function note(digest: ProblemDigest, cells: string[], limit: number): void {
  const [line = '', id = '', status = '', code = '', message = ''] = cells;
  if (code !== '' && digest.examples[code] === undefined && Object.keys(digest.examples).length < MAX_EXAMPLES) {
    digest.examples[code] = message;
  }
  if (!isRejected(status as RowStatus)) return;
  if (digest.rows.length >= limit) {
    digest.more++;
    return;
  }
  digest.rows.push({ line, id, status, code, column: COLUMN_OF.exec(message)?.[1] ?? '', message });
}

/** One RFC 4180 line → its cells (quotes undone). */
export function readCsvLine(text: string): string[] {
  const cells: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let cell = '';
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] !== '"') break;
        cell += text[i];
        i += text[i] === '"' ? 2 : 1;
      }
      cells.push(cell);
      i += 2; // closing quote and the comma
    } else {
      const end = text.indexOf(',', i);
      cells.push(text.slice(i, end === -1 ? text.length : end));
      i = end === -1 ? text.length + 1 : end + 1;
    }
  }
  return cells;
}
