import { readZipDirectory } from './zipDirectory.ts';

/**
 * What a file's bytes are, as far as the workbook reader cares. Kept apart from the reader (xlsxCsv.ts) so the CSV
 * path (format.ts) can name an encrypted workbook without loading read-excel-file.
 */
export type WorkbookKind = 'xlsx' | 'encrypted';

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
/** Excel's encrypted workbook is an OLE container holding these two streams (names in UTF-16LE). */
const ENCRYPTED_STREAMS = ['EncryptionInfo', 'EncryptedPackage'].map((n) => Buffer.from(n, 'utf16le'));

/** The save-as step every workbook refusal names. */
export const SAVE_AS_CSV = 'File → Save As → "CSV UTF-8 (Comma delimited) (*.csv)"';

/** A password-protected workbook where workbooks are read (the CLI). */
export const ENCRYPTED_MESSAGE =
  'the workbook is protected with a password (encrypted), so it cannot be read: open it in Excel with its ' +
  'password, then either remove the password (File → Info → Protect Workbook → Encrypt with Password, clear it) ' +
  `and save, or choose ${SAVE_AS_CSV}; upload that file`;

/** A password-protected workbook where only CSV is read (the CSV path, the Lambda). */
export const ENCRYPTED_CSV_MESSAGE =
  'the file is a password-protected (encrypted) Excel workbook, not a CSV: open it in Excel with its password, ' +
  `choose ${SAVE_AS_CSV}, and upload that file`;

/**
 * 'xlsx' for a workbook the reader can convert (an .xlsx or .xlsm: a ZIP with xl/workbook.xml), 'encrypted' for a
 * password-protected one (Office encryption), undefined for anything else (a CSV, an .xls, another ZIP:
 * source/format.ts refuses those with its own steps). A big encrypted file may name its streams past a head.
 */
export function workbookKind(bytes: Buffer): WorkbookKind | undefined {
  if (isEncryptedWorkbook(bytes)) return 'encrypted';
  if (!startsWith(bytes, ZIP)) return undefined;
  const entries = readZipDirectory(bytes);
  if (!entries) return undefined;
  return entries.some((e) => e.name === 'xl/workbook.xml') ? 'xlsx' : undefined;
}

/** An OLE container naming Office's encryption streams (an .xls never does). */
export function isEncryptedWorkbook(bytes: Buffer): boolean {
  return startsWith(bytes, OLE) && ENCRYPTED_STREAMS.every((name) => bytes.includes(name));
}

function startsWith(bytes: Buffer, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}
