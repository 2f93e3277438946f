import { csvCell } from '../report/lines.ts';
import type { ChangeEntry } from '../report/changeLog.ts';

/**
 * An undo is itself a run: its input is a CSV of one row per lead the run changed, `ID,CHANGES`, where CHANGES
 * holds that lead's change-log entries (JSON, as changes.jsonl has them). So the undo goes through the same
 * chunks, pacing, journal, resume and report as any import, and its own change log can be undone in turn.
 */

export const UNDO_HEADER = ['ID', 'CHANGES'] as const;

/**
 * What every undo runs with, over the caller's options: it reads each lead first (diff) and puts a value back
 * only where the lead still holds the run's. Rows are keyed by the input's ID column (chunk.ts ignores --match).
 */
export const UNDO_RUN_OPTIONS = { undo: true, diff: true } as const;

/** The undo's input: counts, and its CSV text line by line (streamed to the store: it can be tens of MB). */
export interface UndoInput {
  leads: number;
  entries: number;
  /** The header, then one line per lead, each with its CRLF. */
  lines(): Generator<string>;
}

/**
 * changes.jsonl → the undo's input CSV (leads in the order the run first changed them). Throws on a bad line.
 * Each line is checked, then kept as its text (a JSON array of a lead's lines is the list of its entries), and
 * the CSV is made as it is written: the start function does this in 256 MB, where a parsed object per entry,
 * or the whole CSV as one string beside the log, would not fit a large log.
 */
export function undoInput(jsonl: string): UndoInput {
  const byLead = new Map<number, string[]>();
  let entries = 0;
  let at = 0;
  for (let line = 1; at < jsonl.length; line++) {
    const end = jsonl.indexOf('\n', at);
    const text = jsonl.slice(at, end < 0 ? jsonl.length : end).trim();
    at = end < 0 ? jsonl.length : end + 1;
    if (text === '') continue;
    const { id } = parseEntry(text, line);
    const list = byLead.get(id);
    if (list) list.push(text);
    else byLead.set(id, [text]);
    entries++;
  }
  return {
    leads: byLead.size,
    entries,
    *lines() {
      yield `${UNDO_HEADER.join(',')}\r\n`;
      for (const [id, list] of byLead) yield `${id},${csvCell(`[${list.join(',')}]`)}\r\n`;
    },
  };
}

/** The whole input as one string (small inputs: tests, a preview). */
export function undoInputText(input: UndoInput): string {
  return [...input.lines()].join('');
}

function parseEntry(text: string, line: number): ChangeEntry {
  let e: unknown;
  try {
    e = JSON.parse(text);
  } catch {
    throw new Error(`changes.jsonl line ${line} is not JSON`);
  }
  const ok =
    typeof e === 'object' &&
    e !== null &&
    Number.isInteger((e as ChangeEntry).id) &&
    (e as ChangeEntry).id > 0 &&
    typeof (e as ChangeEntry).field === 'string' &&
    typeof (e as ChangeEntry).before === 'string' &&
    typeof (e as ChangeEntry).after === 'string';
  if (!ok) throw new Error(`changes.jsonl line ${line} is not a change-log entry`);
  return e as ChangeEntry;
}

/** The entries of one undo row (its CHANGES cell); undefined when the cell is not what undoInput wrote. */
export function undoEntries(cell: string): ChangeEntry[] | undefined {
  try {
    const list = JSON.parse(cell) as unknown;
    return Array.isArray(list) ? (list as ChangeEntry[]) : undefined;
  } catch {
    return undefined;
  }
}
