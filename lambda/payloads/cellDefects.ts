import type { CellFault } from './cellProblems.ts';
import { CONTROL, quote } from './quote.ts';

/**
 * A control character or U+FFFD, the character a decoder puts where the bytes are not text in the file's
 * encoding (a windows-1251 row in a file detected as UTF-8 from its first 64 KiB): one test per cell finds both.
 */
const SUSPECT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD]/;
const REPLACEMENT = '\uFFFD';

/**
 * The defect finder for a cell limit: most cells are short and clean, so only a long or suspect cell is
 * looked at closely (see cellDefect).
 */
export function defectFinder(maxBytes: number): (cell: string) => CellFault | undefined {
  // A UTF-16 unit is at most 3 UTF-8 bytes: shorter strings need no byte count.
  const safeLength = Math.floor(maxBytes / 3);
  return (cell) => (cell.length > safeLength || SUSPECT.test(cell) ? cellDefect(cell, maxBytes) : undefined);
}

/**
 * A raw cell over the byte limit, holding a control character, or holding bytes that were not text in the
 * file's encoding; undefined when it is fine. The last must never reach the portal: U+FFFD would replace the
 * lead's real text for good.
 */
function cellDefect(cell: string, maxBytes: number): CellFault | undefined {
  const bytes = Buffer.byteLength(cell);
  if (bytes > maxBytes) return ['CELL_TOO_LARGE', `the cell is ${bytes} bytes, over the ${maxBytes}-byte limit`];
  const bad = CONTROL.exec(cell);
  if (!bad) {
    if (!cell.includes(REPLACEMENT)) return undefined;
    return [
      'INVALID_VALUE',
      `${quote(cell)} holds bytes that are not text in the file's encoding (shown as U+FFFD): if the file is a ` +
        'windows-1251 export, run with --encoding windows-1251; otherwise save it as "CSV UTF-8"',
    ];
  }
  const hex = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return ['CONTROL_CHARACTER', `${quote(cell)} contains a control character (U+${hex})`];
}
