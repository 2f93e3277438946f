import { FileRefusedError } from '../errors.ts';
import { cellText, type SheetCell } from './cellText.ts';

/** What a converted sheet may be: the run's own limits (--max-rows, --max-bytes). */
export interface SheetLimits {
  maxRows: number;
  maxBytes: number;
}

/** Text a CSV record is flushed in: big enough for few writes, small enough to stream. */
const CHUNK_CHARS = 64 * 1024;

/** One cell as an RFC 4180 field: quoted (quotes doubled) only when it holds a comma, a quote or a line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A sheet row's cells as a CSV record (no line break); '' when every cell is empty. */
export function csvRecord(row: readonly SheetCell[]): string {
  const texts = row.map(cellText);
  return texts.every((t) => t === '') ? '' : texts.map(csvField).join(',');
}

/**
 * Refuses a sheet the run would refuse or cut short anyway, before anything is written: no header row at all,
 * or more data rows than --max-rows (a CSV is cut short there; a workbook is known whole, so it is refused).
 * Empty rows are not rows, as blank lines are not in a CSV.
 */
export function checkSheet(rows: readonly (readonly SheetCell[])[], limits: Pick<SheetLimits, 'maxRows'>): void {
  let filled = 0;
  for (const row of rows) if (csvRecord(row) !== '') filled++;
  if (filled === 0) {
    throw new FileRefusedError(
      'EMPTY_FILE',
      "the workbook's first sheet is empty: the importer reads the first sheet only; put the leads on the first " +
        'sheet (drag its tab to the far left), save, and upload again',
    );
  }
  const dataRows = filled - 1; // the first filled row is the header
  if (dataRows > limits.maxRows) {
    throw new FileRefusedError(
      'TOO_MANY_ROWS',
      `the workbook's first sheet has ${dataRows} rows, over the ${limits.maxRows}-row limit (--max-rows)`,
    );
  }
}

/** Line breaks a record's text spans (CRLF, LF or a lone CR each count once, as the CSV reader counts them). */
function breaksIn(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) n++;
  }
  return n;
}

/**
 * The sheet as CSV text, in chunks, so that CSV line N is sheet row N: an empty or missing row is a blank line
 * (the CSV reader skips blank lines, as it does in any file, and counts them). A cell with line breaks (Alt+Enter)
 * spans that many more lines; the rows after it then start as many lines later, until empty rows below it take
 * the difference up again. Throws FileRefusedError once the text passes --max-bytes.
 *
 * @example [...sheetCsvChunks([['ID', 'NAME'], [], [1, 'Ann']], limits)].join('') // → 'ID,NAME\r\n\r\n1,Ann\r\n'
 */
export function* sheetCsvChunks(rows: readonly (readonly SheetCell[])[], limits: Pick<SheetLimits, 'maxBytes'>): Generator<string> {
  let line = 1; // the CSV line the next record starts on
  let bytes = 0;
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    const record = csvRecord(rows[i]);
    if (record === '') continue;
    const sheetRow = i + 1;
    if (line < sheetRow) chunk += '\r\n'.repeat(sheetRow - line);
    chunk += `${record}\r\n`;
    line = Math.max(line, sheetRow) + 1 + breaksIn(record);
    if (chunk.length >= CHUNK_CHARS) {
      bytes = countBytes(bytes, chunk, limits.maxBytes);
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) {
    countBytes(bytes, chunk, limits.maxBytes);
    yield chunk;
  }
}

function countBytes(before: number, chunk: string, maxBytes: number): number {
  const total = before + Buffer.byteLength(chunk);
  if (total > maxBytes) {
    throw new FileRefusedError('FILE_TOO_LARGE', `the workbook's first sheet, as CSV, is over the ${maxBytes}-byte limit (--max-bytes)`);
  }
  return total;
}
