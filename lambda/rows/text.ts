import iconv from 'iconv-lite';

/**
 * Text ↔ bytes in a source file's encoding. Kept apart from the CSV reader so a module that only writes text
 * (finalize, the CLI) does not pull csv-parse into its bundle.
 */

/** The encodings a source file can be read in. */
export type TextEncoding = 'utf-8' | SingleByteEncoding;
/** The single-byte code pages: one byte, one character. */
export type SingleByteEncoding = 'windows-1251' | 'windows-1252' | 'macintosh';

/** iconv-lite's name for each code page. */
const ICONV: Record<SingleByteEncoding, string> = { 'windows-1251': 'win1251', 'windows-1252': 'win1252', macintosh: 'macintosh' };

/** Byte → character of a code page, built once from iconv-lite (256 characters). */
const TABLES = new Map<SingleByteEncoding, string>();
export function codePageTable(encoding: SingleByteEncoding): string {
  let table = TABLES.get(encoding);
  if (table === undefined) {
    table = iconv.decode(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), ICONV[encoding]);
    TABLES.set(encoding, table);
  }
  return table;
}
const NON_ASCII = /[\x80-\xff]/;

/** A latin1 string (one char per byte) → the text those bytes mean in the code page. */
export function latin1ToCodePage(s: string, encoding: SingleByteEncoding): string {
  if (!NON_ASCII.test(s)) return s;
  const table = codePageTable(encoding);
  let out = '';
  for (let i = 0; i < s.length; i++) out += table[s.charCodeAt(i)];
  return out;
}

/** Decodes source bytes in the file's encoding. */
export function decodeBytes(bytes: Uint8Array, encoding: TextEncoding): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return encoding === 'utf-8' ? buf.toString('utf8') : iconv.decode(buf, ICONV[encoding]);
}

/** Encodes text back into the file's encoding (rejected.csv is written the way the user's file was). */
export function encodeText(text: string, encoding: TextEncoding): Buffer {
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, ICONV[encoding]);
}
