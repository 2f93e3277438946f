/** One file in a ZIP archive, as its central directory lists it. */
export interface ZipEntry {
  name: string;
  /** Unpacked bytes; Infinity when the archive says ZIP64 (over 4 GiB: far past anything read in memory). */
  size: number;
  /** Bit 0 of the entry's flags: the entry is encrypted (a password-protected ZIP, not Excel's own encryption). */
  encrypted: boolean;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
/** The end record is 22 bytes plus a comment of at most 65,535. */
const EOCD_SEARCH = 22 + 0xffff;
const ZIP64_MARK = 0xffffffff;

/**
 * The entries of a ZIP archive held in memory, read from its central directory (names and unpacked sizes, no
 * data): enough to tell an .xlsx from another archive and to bound what unpacking it costs before doing it.
 * Returns undefined when the bytes are not a readable ZIP (no end record, a directory outside the file).
 *
 * @example readZipDirectory(await readFile('book.xlsx'))?.map((e) => e.name) // → ['[Content_Types].xml', 'xl/workbook.xml', …]
 */
export function readZipDirectory(zip: Buffer): ZipEntry[] | undefined {
  const end = findEndRecord(zip);
  if (end < 0) return undefined;
  const count = zip.readUInt16LE(end + 10);
  const offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL) return undefined;
    const flags = zip.readUInt16LE(at + 8);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    if (at + 46 + nameLength > zip.length) return undefined;
    // Bit 11: the name is UTF-8; otherwise code page 437, whose ASCII part is all an .xlsx uses.
    const name = zip.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength);
    entries.push({ name, size: size === ZIP64_MARK ? Number.POSITIVE_INFINITY : size, encrypted: (flags & 1) === 1 });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Offset of the end-of-central-directory record, searched from the end (a comment may follow it); -1 if none. */
function findEndRecord(zip: Buffer): number {
  const stop = Math.max(0, zip.length - EOCD_SEARCH);
  for (let i = zip.length - 22; i >= stop; i--) if (zip.readUInt32LE(i) === EOCD) return i;
  return -1;
}
