import type { Readable } from 'node:stream';
import type { RunOptions } from '../config.ts';
import { workbookKind, workbookTooBig, XLSX_MAX_XML_BYTES } from './workbookKind.ts';

/** How the CSV a workbook becomes is read: UTF-8 with commas, whatever --encoding/--delimiter say for a CSV file. */
export const WORKBOOK_CSV_FORMAT = { encoding: 'utf-8', delimiter: ',' } as const satisfies Pick<RunOptions, 'encoding' | 'delimiter'>;

const ZIP = [0x50, 0x4b, 0x03, 0x04];

/**
 * When `head` (the file's first bytes) starts an .xlsx workbook, its first sheet as CSV (xlsxToCsv: CSV line N =
 * sheet row N); undefined for anything else (a CSV, an .xls, another ZIP), which the CSV path reads or refuses as it
 * always has. `whole` reads the file, only for a ZIP: read-excel-file needs it in memory, so a file over the XML
 * bound is refused unread. Told by the bytes, not the name: a workbook saved under .csv is read as one.
 *
 * @example const csv = await workbookCsv(head, info.size, () => readAll(key), options.input)
 * @throws FileRefusedError too big for memory (FILE_TOO_LARGE), damaged (XLSX_UNREADABLE), encrypted, an empty
 *   first sheet, over --max-rows; the stream errors with FILE_TOO_LARGE past --max-bytes
 */
export async function workbookCsv(
  head: Buffer,
  size: number,
  whole: () => Promise<Buffer>,
  limits: RunOptions['input'],
): Promise<Readable | undefined> {
  if (!ZIP.every((b, i) => head[i] === b)) return undefined;
  if (size > XLSX_MAX_XML_BYTES) throw workbookTooBig({ file: size });
  const bytes = await whole();
  if (workbookKind(bytes) === undefined) return undefined;
  // Loaded only for a workbook: a CSV run never pays for the reader.
  const { xlsxToCsv } = await import('./xlsxCsv.ts');
  return xlsxToCsv(bytes, limits);
}
