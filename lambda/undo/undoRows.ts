import { FileRefusedError } from '../errors.ts';
import { invalidRow } from '../payloads/invalidRow.ts';
import type { RowCheck, SourceRecord } from '../types.ts';
import { UNDO_HEADER, undoEntries } from './undoInput.ts';

/**
 * The row check of an undo run: each record is a lead and the entries to take back (undoInput.ts). The field
 * values come later, from the lead as it is then (the revert planner), so a row here carries no fields.
 *
 * @throws FileRefusedError NOT_AN_UNDO when the header is not the undo input's
 */
export function undoRows(header: readonly string[]): (record: SourceRecord) => RowCheck {
  if (header.length !== 2 || header[0] !== UNDO_HEADER[0] || header[1] !== UNDO_HEADER[1]) {
    throw new FileRefusedError(
      'NOT_AN_UNDO',
      `an undo reads the input its command writes (${UNDO_HEADER.join(',')}), not "${header.join(',')}"`,
    );
  }
  return (record) => {
    const id = Number(record.cells[0]);
    const entries = undoEntries(record.cells[1] ?? '');
    if (!Number.isInteger(id) || id <= 0 || !entries || entries.some((e) => e.id !== id)) {
      return invalidRow(record, record.cells[0] ?? '', 'INVALID_VALUE', `line ${record.line}: not an undo row written by the undo command`);
    }
    return { ok: true, row: { line: record.line, id, fields: {}, clears: [], warnings: [], raw: record.raw, revert: entries } };
  };
}
