import type { CellFault } from './cellProblems.ts';
import { CONTROL, quote } from './quote.ts';

/**
 * A control character, an invisible character (INVISIBLE), or U+FFFD, the character a decoder puts where the
 * bytes are not text in the file's encoding (a windows-1251 row in a file detected as UTF-8 from its first
 * 64 KiB): one test per cell finds all three.
 */
const SUSPECT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD\u200B-\u200D\u202A-\u202E\u2066-\u2069\uFEFF]/;
const REPLACEMENT = '\uFFFD';

/**
 * Characters that change how text displays without showing themselves: bidi embeddings/overrides
 * (U+202A–U+202E) and isolates (U+2066–U+2069) reorder what follows (`invoice\u202Efdp.exe` reads
 * "invoiceexe.pdf"), zero-width space/joiners (U+200B–U+200D) and U+FEFF hide inside a name or phone. A CRM
 * value must read as it is stored. (Persian text uses U+200C as a letter joiner: such a portal would need this
 * relaxed.) compile.ts removes stray U+FEFF with a warning before this runs; the check stays for other callers.
 */
const INVISIBLE = /[\u200B-\u200D\u202A-\u202E\u2066-\u2069\uFEFF]/;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'g');

const codePoint = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/** The cell quoted for a message, its invisible characters spelled out (copied, they would reorder the report). */
const shown = (cell: string) => quote(cell.replace(INVISIBLE_ALL, (c) => `\\u${codePoint(c).slice(2)}`));

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
 * A raw cell over the byte limit, holding a control or invisible character, or holding bytes that were not text in the
 * file's encoding; undefined when it is fine. The last must never reach the portal: U+FFFD would replace the
 * lead's real text for good.
 */
function cellDefect(cell: string, maxBytes: number): CellFault | undefined {
  const bytes = Buffer.byteLength(cell);
  if (bytes > maxBytes) return ['CELL_TOO_LARGE', `the cell is ${bytes} bytes, over the ${maxBytes}-byte limit`];
  const bad = CONTROL.exec(cell);
  if (!bad) {
    const hidden = INVISIBLE.exec(cell);
    if (hidden) {
      return [
        'CONTROL_CHARACTER',
        `${shown(cell)} contains an invisible character that changes how text displays (${codePoint(hidden[0])})`,
      ];
    }
    if (!cell.includes(REPLACEMENT)) return undefined;
    return [
      'INVALID_VALUE',
      `${quote(cell)} holds bytes that are not text in the file's encoding (shown as U+FFFD): if the file is a ` +
        'windows-1251 export, run with --encoding windows-1251; otherwise save it as "CSV UTF-8"',
    ];
  }
  return ['CONTROL_CHARACTER', `${shown(cell)} contains a control character (${codePoint(bad[0])})`];
}
