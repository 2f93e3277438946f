import iconv from 'iconv-lite';

/**
 * Text ↔ bytes in a source file's encoding. Kept apart from the CSV reader so a module that only writes text
 * (finalize, the CLI) does not pull csv-parse into its bundle.
 */

/** The encodings a source file can be read in. */
export type TextEncoding = 'utf-8' | 'windows-1251';

/** windows-1251 byte → character, built once from iconv-lite (the table is 256 characters). */
const CP1251 = iconv.decode(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), 'win1251');
const NON_ASCII = /[\x80-\xff]/;

/** A latin1 string (one char per byte) → the windows-1251 text those bytes mean. */
export function latin1ToCp1251(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) out += CP1251[s.charCodeAt(i)];
  return out;
}

/** Decodes source bytes in the file's encoding. */
export function decodeBytes(bytes: Uint8Array, encoding: TextEncoding): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return encoding === 'utf-8' ? buf.toString('utf8') : iconv.decode(buf, 'win1251');
}

/** Encodes text back into the file's encoding (rejected.csv is written the way the user's file was). */
export function encodeText(text: string, encoding: TextEncoding): Buffer {
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'win1251');
}
