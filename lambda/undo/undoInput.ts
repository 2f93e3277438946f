import { csvCell } from '../report/lines.ts';
import type { ChangeEntry } from '../report/changeLog.ts';

/**
 * An undo is itself a run: its input is a CSV of one row per lead the run changed, `ID,CHANGES`, where CHANGES
 * holds that lead's change-log entries (JSON, as changes.jsonl has them). So the undo goes through the same
 * chunks, pacing, journal, resume and report as any import, and its own change log can be undone in turn.
 */

export const UNDO_HEADER = ['ID', 'CHANGES'] as const;

/** changes.jsonl → the undo's input CSV (leads in the order the run first changed them). Throws on a bad line. */
export function undoInput(jsonl: string): { csv: string; leads: number; entries: number } {
  const byLead = new Map<number, ChangeEntry[]>();
  let entries = 0;
  for (const [i, text] of jsonl.split('\n').entries()) {
    if (text.trim() === '') continue;
    const e = parseEntry(text, i + 1);
    const list = byLead.get(e.id) ?? [];
    list.push(e);
    byLead.set(e.id, list);
    entries++;
  }
  const lines = [UNDO_HEADER.join(',')];
  for (const [id, list] of byLead) lines.push(`${id},${csvCell(JSON.stringify(list))}`);
  return { csv: lines.join('\r\n') + '\r\n', leads: byLead.size, entries };
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
