import { quote } from '../quote.ts';

// Cell parsers: one trimmed, non-empty cell → the value crm.lead.update takes, or a `Bad` reason.

/** A rejected cell: `reason` is the text after the column name, e.g. `"bob@" is not an e-mail address`. */
export class Bad {
  constructor(readonly reason: string) {}
}

export type Parsed = string | number;
export type Parser = (v: string) => Parsed | Bad;
/** What a column's parser yields: one value, or a list of them for multi-value cells. */
export type CellValue = Parsed | Parsed[];

/** Multi-value separator inside one cell: cannot clash with the `,` `;` tab delimiters. */
export const SEPARATOR = '|';

/** Plain text: the trimmed cell is the value. */
export const parseString: Parser = (v) => v;

/** Several values in one cell, separated by `|` (empty pieces ignored), each parsed alone. */
export function listOf(parse: Parser, separator: string | RegExp = SEPARATOR): (v: string) => CellValue | Bad {
  return (v) => {
    const out: Parsed[] = [];
    for (const piece of v.split(separator)) {
      const t = piece.trim();
      if (t === '') continue;
      const r = parse(t);
      if (r instanceof Bad) return r;
      out.push(r);
    }
    return out.length > 0 ? out : new Bad(`${quote(v)} has no value between the ${SEPARATOR} separators`);
  };
}
