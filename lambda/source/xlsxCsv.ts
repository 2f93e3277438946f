import { Readable } from 'node:stream';
import { readSheet } from 'read-excel-file/node';
import { FileRefusedError } from '../errors.ts';
import { NumberText, type SheetCell } from './cellText.ts';
import { checkSheet, type SheetLimits, sheetCsvChunks } from './sheetCsv.ts';
import { ENCRYPTED_MESSAGE, isEncryptedWorkbook, SAVE_AS_CSV, workbookTooBig, XLSX_MAX_XML_BYTES, xmlSize } from './workbookKind.ts';
import { readZipDirectory } from './zipDirectory.ts';

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
  if (isEncryptedWorkbook(bytes)) throw new FileRefusedError('XLSX_ENCRYPTED', ENCRYPTED_MESSAGE);
  const entries = readZipDirectory(bytes);
  if (!entries) throw unreadable('it is not a complete ZIP archive (cut short while copying?)');
  if (entries.some((e) => e.encrypted)) throw new FileRefusedError('XLSX_ENCRYPTED', ENCRYPTED_MESSAGE);
  const xml = xmlSize(entries);
  if (xml > maxXmlBytes) throw workbookTooBig({ xml }, maxXmlBytes);
  try {
    // trim: false keeps text as written; the row checks decide about blanks, as they do for a CSV.
    return (await readSheet(bytes, 1, { trim: false, parseNumber: (stored) => new NumberText(stored) })) as SheetCell[][];
  } catch (err) {
    throw unreadable((err as Error).message || String(err), err);
  }
}

function unreadable(why: string, cause?: unknown): FileRefusedError {
  return new FileRefusedError(
    'XLSX_UNREADABLE',
    `the workbook cannot be read (${why}): open it in Excel and save it again as .xlsx, or choose ${SAVE_AS_CSV}, and upload that file`,
    { cause },
  );
}
