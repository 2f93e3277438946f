import type { RowCheck, SourceRecord } from '../types.ts';
import type { Column } from './header.ts';
import { invalidRow } from './invalidRow.ts';

/** No cell from `from` on holds anything but blanks. */
export function allEmpty(cells: readonly string[], from: number): boolean {
  for (let i = from; i < cells.length; i++) if (cells[i].trim() !== '') return false;
  return true;
}

export function emptyRow(record: SourceRecord, idCell: string): RowCheck {
  return invalidRow(record, idCell, 'EMPTY_ROW', `line ${record.line}: the row is empty`);
}

/**
 * The checks on a row as a whole, before its cells: the cell count against the header, and a repeated header
 * line. Returns the rejection, or undefined when the row is fit to read.
 */
export function shapeChecker(
  columns: Column[],
  headerLength: number,
): (record: SourceRecord, cells: string[], idCell: string) => RowCheck | undefined {
  // Cells under trailing empty header cells (Excel's trailing delimiter) may be missing from a row.
  const minCells = Math.max(...columns.map((c) => c.index)) + 1;
  return (record, cells, idCell) => {
    const { line } = record;
    const count = cells.length;
    if (count < minCells || (count > headerLength && !allEmpty(cells, headerLength))) {
      if (allEmpty(cells, 0)) return emptyRow(record, idCell);
      return invalidRow(
        record,
        idCell,
        'ROW_CELL_COUNT',
        `line ${line}: ${count} ${count === 1 ? 'cell' : 'cells'}, the header has ${headerLength}`,
      );
    }
    if (repeatsHeader(cells, columns)) {
      return invalidRow(
        record,
        idCell,
        'INVALID_ID',
        `line ${line}: the header line again (two files joined together?); the row is skipped`,
      );
    }
    return undefined;
  };
}

/** Every named column holds its own header: a second file's header line inside the data. */
function repeatsHeader(cells: string[], columns: Column[]): boolean {
  for (const c of columns) if ((cells[c.index] ?? '').trim().toLowerCase() !== c.header.toLowerCase()) return false;
  return true;
}
