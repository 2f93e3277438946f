import { Readable } from 'node:stream';
import { readSheet } from 'read-excel-file/node';
import { FileRefusedError } from '../errors.ts';
import { NumberText, type SheetCell } from './cellText.ts';
import { checkSheet, type SheetLimits, sheetCsvChunks } from './sheetCsv.ts';
import { ENCRYPTED_MESSAGE, SAVE_AS_CSV, workbookKind } from './workbookKind.ts';
import { readZipDirectory, type ZipEntry } from './zipDirectory.ts';

/**
 * Unpacked XML a workbook may hold (all its parts: read-excel-file unpacks them whole, then builds the sheet as
 * rows). Measured in the CLI's 128 MB heap: 100,000 rows × 8 columns (38 MB of XML) convert in ~12 s; 150,000
 * rows do not fit. A bigger sheet is refused with the way out: a CSV, which is read as a stream at any size.
 */
export const XLSX_MAX_XML_BYTES = 40 * 1024 * 1024;

export interface XlsxLimits extends SheetLimits {
  /** Default XLSX_MAX_XML_BYTES; a process with more memory (a bigger Lambda) may allow more. */
  maxXmlBytes?: number;
}

/**
 * An .xlsx workbook's first sheet as UTF-8 CSV text (RFC 4180, comma, CRLF), streamed, with CSV line N = sheet
 * row N (see sheetCsvChunks) and cells as cellText writes them. The run then reads it as any CSV, so chunks,
 * resume and the reports work unchanged. Refuses (FileRefusedError, before anything is streamed) an encrypted,
 * damaged, too big or empty workbook, and a sheet over --max-rows; the stream errors past --max-bytes.
 *
 * @example await store.write('staged/leads.csv', await xlsxToCsv(await readFile('leads.xlsx'), options.input))
 */
export async function xlsxToCsv(bytes: Buffer, limits: XlsxLimits): Promise<Readable> {
  const rows = await readFirstSheet(bytes, limits.maxXmlBytes ?? XLSX_MAX_XML_BYTES);
  checkSheet(rows, limits);
  return Readable.from(sheetCsvChunks(rows, limits), { objectMode: false });
}

/** The first sheet's rows, numbers as their stored text; refused when it cannot or should not be read. */
async function readFirstSheet(bytes: Buffer, maxXmlBytes: number): Promise<SheetCell[][]> {
  if (workbookKind(bytes) === 'encrypted') throw new FileRefusedError('XLSX_ENCRYPTED', ENCRYPTED_MESSAGE);
  const entries = readZipDirectory(bytes);
  if (!entries) throw unreadable('it is not a complete ZIP archive (cut short while copying?)');
  if (entries.some((e) => e.encrypted)) throw new FileRefusedError('XLSX_ENCRYPTED', ENCRYPTED_MESSAGE);
  refuseTooBig(entries, maxXmlBytes);
  try {
    // trim: false keeps text as written; the row checks decide about blanks, as they do for a CSV.
    return (await readSheet(bytes, 1, { trim: false, parseNumber: (stored) => new NumberText(stored) })) as SheetCell[][];
  } catch (err) {
    throw unreadable((err as Error).message || String(err), err);
  }
}

function refuseTooBig(entries: ZipEntry[], maxXmlBytes: number): void {
  const xml = entries.filter((e) => /\.(xml|rels)$/i.test(e.name)).reduce((sum, e) => sum + e.size, 0);
  if (xml > maxXmlBytes) throw workbookTooBig(`unpacks to ${mb(xml)} of XML`, maxXmlBytes);
}

function mb(n: number): string {
  if (!Number.isFinite(n)) return 'over 4 GB';
  return n < 1024 * 1024 ? `${Math.ceil(n / 1024)} KB` : `${Math.ceil(n / (1024 * 1024))} MB`;
}

/**
 * A workbook too big to read in memory (`what` says how big), with the way out. A workbook file bigger than the
 * XML bound is refused unread: only embedded pictures make a file bigger than its XML.
 */
export function workbookTooBig(what: string, maxXmlBytes = XLSX_MAX_XML_BYTES): FileRefusedError {
  return new FileRefusedError(
    'FILE_TOO_LARGE',
    `the workbook ${what}, more than the ${mb(maxXmlBytes)} read from a workbook in memory: ` +
      `open it in Excel and choose ${SAVE_AS_CSV}, then upload that file (a CSV is read as a stream, at any size)`,
  );
}

function unreadable(why: string, cause?: unknown): FileRefusedError {
  return new FileRefusedError(
    'XLSX_UNREADABLE',
    `the workbook cannot be read (${why}): open it in Excel and save it again as .xlsx, or choose ${SAVE_AS_CSV}, and upload that file`,
    { cause },
  );
}
