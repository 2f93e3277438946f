import { FileRefusedError } from '../errors.ts';
import { readZipDirectory, type ZipEntry } from './zipDirectory.ts';

/**
 * What a file's bytes are, as far as the workbook reader cares. Kept apart from the reader (xlsxCsv.ts) so the CSV
 * path (format.ts) can name an encrypted workbook without loading read-excel-file.
 */
export type WorkbookKind = 'xlsx' | 'encrypted' | 'damaged';

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
 * password-protected one (Office encryption), 'damaged' for a ZIP that starts as an Office file but whose directory
 * cannot be read (cut short in a download, most likely), undefined for anything else (a CSV, an .xls, another ZIP:
 * source/format.ts refuses those with its own steps). A big encrypted file may name its streams past a head.
 */
export function workbookKind(bytes: Buffer): WorkbookKind | undefined {
  if (isEncryptedWorkbook(bytes)) return 'encrypted';
  if (!startsWith(bytes, ZIP)) return undefined;
  const entries = readZipDirectory(bytes);
  if (!entries) return firstPartIsOffice(bytes) ? 'damaged' : undefined;
  return entries.some((e) => e.name === 'xl/workbook.xml') ? 'xlsx' : undefined;
}

/** The first local header names an Office part (a workbook cut short keeps its start; other ZIPs are not ours). */
function firstPartIsOffice(zip: Buffer): boolean {
  if (zip.length < 30) return false;
  const name = zip.toString('latin1', 30, 30 + Math.min(zip.readUInt16LE(26), 200));
  return name === '[Content_Types].xml' || /^(xl|_rels|docProps)\//.test(name);
}

/** An OLE container naming Office's encryption streams (an .xls never does). */
export function isEncryptedWorkbook(bytes: Buffer): boolean {
  return startsWith(bytes, OLE) && ENCRYPTED_STREAMS.every((name) => bytes.includes(name));
}

function startsWith(bytes: Buffer, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/**
 * Unpacked XML a workbook may hold (all its parts: read-excel-file unpacks them whole, then builds the sheet as
 * rows). Measured in the CLI's 128 MB heap: 100,000 rows × 8 columns (38 MB of XML) convert in ~12 s; 150,000
 * rows do not fit. A bigger sheet is refused with the way out: a CSV, which is read as a stream at any size.
 */
export const XLSX_MAX_XML_BYTES = 40 * 1024 * 1024;

/** What read-excel-file unpacks and holds: every XML part (and relationship list) of the archive. */
export function xmlSize(entries: ZipEntry[]): number {
  return entries.filter((e) => /\.(xml|rels)$/i.test(e.name)).reduce((sum, e) => sum + e.size, 0);
}

function mb(n: number): string {
  if (!Number.isFinite(n)) return 'over 4 GB';
  return n < 1024 * 1024 ? `${Math.ceil(n / 1024)} KB` : `${Math.ceil(n / (1024 * 1024))} MB`;
}

/**
 * A workbook too big to read in memory (by its XML, or by its file size), with the way out. A workbook file bigger than the
 * XML bound is refused unread: only embedded pictures make a file bigger than its XML.
 */
export function workbookTooBig(size: { xml: number } | { file: number }, maxXmlBytes = XLSX_MAX_XML_BYTES): FileRefusedError {
  const what = 'xml' in size ? `unpacks to ${mb(size.xml)} of XML` : `file is ${mb(size.file)}`;
  return new FileRefusedError(
    'FILE_TOO_LARGE',
    `the workbook ${what}, more than the ${mb(maxXmlBytes)} read from a workbook in memory: ` +
      `open it in Excel and choose ${SAVE_AS_CSV}, then upload that file (a CSV is read as a stream, at any size)`,
  );
}
