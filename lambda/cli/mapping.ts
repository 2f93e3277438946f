import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { decodeBytes } from '../rows/text.ts';
import { isUtf8 } from '../source/format.ts';

/**
 * A mapping file's text: UTF-8 (BOM or not), or windows-1251 when the bytes are not UTF-8 (Notepad's "ANSI"
 * on a Russian Windows), so Cyrillic keys still match the headers of a Russian export.
 */
export function decodeMapping(bytes: Buffer): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  return isUtf8(body) ? body.toString('utf8') : decodeBytes(body, 'windows-1251');
}

/** The JSON in `file` (relative to `cwd`), unchecked: the schema judges its entries. `flag` names it in errors. */
export async function readMappingFile(file: string, cwd: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = decodeMapping(await readFile(resolve(cwd, file)));
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${file} is not valid JSON: ${(err as Error).message}`);
  }
}
