import { FileRefusedError } from '../errors.ts';
import type { RunOptions } from '../config.ts';
import type { TextEncoding } from '../rows/text.ts';
import { guessCodePage } from './codePage.ts';
import { ENCRYPTED_CSV_MESSAGE, isEncryptedWorkbook, SAVE_AS_CSV as SAVE_AS_STEP } from './workbookKind.ts';

/** How the bytes of a source file are to be read. */
export interface SourceFormat {
  encoding: TextEncoding;
  delimiter: ',' | ';' | '\t';
  /** Bytes of the UTF-8 BOM at the start (0 or 3). */
  bomLength: number;
  /** Bytes before the header record: the BOM and Excel's optional `sep=;` line. */
  headerOffset: number;
  /** Source line the header starts on (2 after a `sep=` line). */
  headerLine: number;
}

/**
 * Excel's "sep=;" first line names the delimiter for Excel; it is not part of the data. Excel (and tools
 * copying it) also write it quoted, `"sep=;"`, then sometimes padded with delimiters.
 */
const SEP_LINE = /^(?:sep=(,|;|\t)|"sep=(,|;|\t)"[,;\t]*)[ \t]*(\r\n|\n|\r)/i;

/** How many bytes of the file `detectFormat` wants to see. */
export const HEAD_BYTES = 64 * 1024;
/** Records looked at when guessing the delimiter. */
const SNIFF_RECORDS = 50;
const DELIMITERS = [',', ';', '\t'] as const;

/**
 * Decides encoding and delimiter from the first bytes of a file, and refuses what is not a CSV we can read.
 *
 * @example detectFormat(Buffer.from('\uFEFFID;TITLE\r\n1;Hello\r\n'), { encoding: 'auto', delimiter: 'auto' })
 * // → { encoding: 'utf-8', delimiter: ';', bomLength: 3, headerOffset: 3, headerLine: 1 }
 * @throws FileRefusedError EMPTY_FILE | UNSUPPORTED_ENCODING | UNSURE_ENCODING | NOT_TEXT | XLSX_ENCRYPTED | EXCEL_HTML | EXCEL_XML
 */
export function detectFormat(head: Buffer, options: Pick<RunOptions, 'encoding' | 'delimiter'>): SourceFormat {
  refuseUnreadable(head);
  const hasBom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const body = hasBom ? head.subarray(3) : head;
  if (isBlank(body)) throw new FileRefusedError('EMPTY_FILE', 'the file is empty: there is not even a header line');
  refuseMarkup(body);

  const encoding = options.encoding === 'auto' ? detectEncoding(body, hasBom) : options.encoding;
  // A BOM only means something to UTF-8; with a forced windows-1251 the user asked for those bytes as text.
  const bomLength = hasBom && encoding === 'utf-8' ? 3 : 0;

  // The delimiters, quotes and line breaks are ASCII in both encodings, so latin1 text is enough to count them.
  const text = body.toString('latin1');
  // (A BOM kept as text under a forced windows-1251 sits before any sep= line: then there is none to skip.)
  const sep = hasBom && bomLength === 0 ? null : SEP_LINE.exec(text);
  const named = sep ? ((sep[1] ?? sep[2]) as SourceFormat['delimiter']) : undefined;
  const delimiter = options.delimiter !== 'auto' ? options.delimiter : (named ?? guessDelimiter(sep ? text.slice(sep[0].length) : text));
  const headerOffset = bomLength + (sep ? sep[0].length : 0);
  return { encoding, delimiter, bomLength, headerOffset, headerLine: sep ? 2 : 1 };
}

/** UTF-8 when the bytes are (or a BOM says so), else the code page the text reads as; refused when unsure. */
function detectEncoding(body: Buffer, hasBom: boolean): TextEncoding {
  if (hasBom || isUtf8(body)) return 'utf-8';
  const guess = guessCodePage(body);
  if ('encoding' in guess) return guess.encoding;
  const names = guess.unsure.join(', ');
  const why = guess.garbled
    ? `its text does not read as words in any code page we know (${names})`
    : `its text reads as well in more than one code page (${names})`;
  throw new FileRefusedError(
    'UNSURE_ENCODING',
    `the file is not UTF-8, and ${why}: name the one it was saved in with --encoding ` +
      `(${guess.unsure.join(' | ')}), or save it as "CSV UTF-8" and upload again`,
  );
}

/** Save-as steps every spreadsheet refusal ends with. */
const SAVE_AS_CSV = `open it in Excel, choose ${SAVE_AS_STEP}, and upload that file`;

/**
 * An HTML table or an Excel 2003 XML workbook with an .xls name (the portal's "Export to Excel" writes HTML):
 * text, but not a CSV. Only the markup's own start counts, so a CSV whose first cell begins with `<` is read.
 */
function refuseMarkup(body: Buffer): void {
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x09 || body[i] === 0x0a || body[i] === 0x0d)) i++;
  if (body[i] !== 0x3c) return;
  const start = body.toString('latin1', i, i + 4096);
  if (
    /^<\?xml\b/i.test(start) &&
    /urn:schemas-microsoft-com:office:spreadsheet|<\?mso-application\s+progid="Excel\.Sheet"|<(ss:)?Workbook\b/i.test(start)
  ) {
    throw new FileRefusedError(
      'EXCEL_XML',
      `the file is an Excel 2003 XML workbook (SpreadsheetML, often named .xls or .xml), not a CSV: ${SAVE_AS_CSV}`,
    );
  }
  if (
    /^<(html|table|!doctype\s+html|meta|style|head|body)\b/i.test(start) ||
    (/^<(\?xml|!--)/i.test(start) && /<(html|table)\b/i.test(start))
  ) {
    throw new FileRefusedError(
      'EXCEL_HTML',
      'the file is an HTML table saved with an .xls name (the portal\'s "Export to Excel" writes one), not a CSV: ' +
        `${SAVE_AS_CSV}; or export the leads with the portal's "Export to CSV" and upload that file as it is`,
    );
  }
}

/** UTF-16/32 (BOM or NUL bytes), well-known binary formats and control-character soup are refused. */
function refuseUnreadable(head: Buffer): void {
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    throw new FileRefusedError(
      'UNSUPPORTED_ENCODING',
      'the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as "CSV UTF-8" or windows-1251 and upload again',
    );
  }
  // Excel's password protection wraps the workbook in the same OLE container as an .xls: say which it is.
  if (isEncryptedWorkbook(head)) throw new FileRefusedError('XLSX_ENCRYPTED', ENCRYPTED_CSV_MESSAGE);
  const magic = binaryMagic(head);
  if (magic) throw new FileRefusedError('NOT_TEXT', `the file is not a CSV text file: it looks like ${magic}`);
  let nul = 0;
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i];
    if (b === 0) nul++;
    else if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) control++;
  }
  if (nul > 0) {
    // UTF-16 text without a BOM has a NUL beside almost every ASCII character.
    if (nul * 3 >= head.length) {
      throw new FileRefusedError(
        'UNSUPPORTED_ENCODING',
        'the file looks like UTF-16 text (NUL bytes between the characters): save it as "CSV UTF-8" or windows-1251 and upload again',
      );
    }
    throw new FileRefusedError('NOT_TEXT', 'the file is not a CSV text file: it contains NUL bytes (binary data)');
  }
  if (control * 20 > head.length) {
    throw new FileRefusedError('NOT_TEXT', 'the file is not a CSV text file: it is mostly control characters (binary data)');
  }
}

function binaryMagic(head: Buffer): string | undefined {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04)) return `an Excel workbook (.xlsx) or another ZIP archive: ${SAVE_AS_CSV}`;
  if (starts(0xd0, 0xcf, 0x11, 0xe0)) return `an Excel 97-2003 workbook (.xls): ${SAVE_AS_CSV}`;
  if (starts(0x25, 0x50, 0x44, 0x46)) return 'a PDF document';
  if (starts(0x1f, 0x8b)) return 'a gzip archive';
  return undefined;
}

function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

/** Valid UTF-8, tolerating a multi-byte character cut off at the end of the head. */
export function isUtf8(bytes: Buffer): boolean {
  let end = bytes.length;
  // Step back over an incomplete trailing sequence (at most 3 continuation bytes after a lead byte).
  for (let back = 1; back <= 4 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back];
    if ((b & 0xc0) === 0x80) continue;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      if (need > back) end = bytes.length - back;
    }
    break;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/**
 * Counts each candidate outside quotes on the first records and picks the one that splits the header
 * and keeps the same count on the most records (ties: more columns, then `,` before `;` before tab).
 */
export function guessDelimiter(text: string): SourceFormat['delimiter'] {
  const counts = countPerRecord(text, SNIFF_RECORDS);
  if (counts.length === 0) return ',';
  let best: SourceFormat['delimiter'] = ',';
  let bestScore = -1;
  let bestWidth = 0;
  for (const [d, delimiter] of DELIMITERS.entries()) {
    const width = counts[0][d];
    if (width === 0) continue;
    const sample = counts.length > 1 ? counts.slice(1) : counts;
    const score = sample.filter((c) => c[d] === width).length / sample.length;
    if (score > bestScore || (score === bestScore && width > bestWidth)) {
      best = delimiter;
      bestScore = score;
      bestWidth = width;
    }
  }
  return best;
}

/** Per record (quote-aware, quoted line breaks do not end a record): counts of `,` `;` tab. */
function countPerRecord(text: string, maxRecords: number): number[][] {
  const out: number[][] = [];
  let current = [0, 0, 0];
  let quoted = false;
  let any = false;
  for (let i = 0; i < text.length && out.length < maxRecords; i++) {
    const ch = text[i];
    if (ch === '"') {
      quoted = !quoted;
      any = true;
    } else if (quoted) {
    } else if (ch === '\n' || ch === '\r') {
      if (any) out.push(current);
      current = [0, 0, 0];
      any = false;
    } else {
      any = true;
      if (ch === ',') current[0]++;
      else if (ch === ';') current[1]++;
      else if (ch === '\t') current[2]++;
    }
  }
  // The last record of a head may be cut off: only count it when nothing else was seen.
  if (any && out.length === 0) out.push(current);
  return out;
}
