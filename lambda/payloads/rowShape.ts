import { rowOutcome } from '../report/outcome.ts';
import { FOOTER } from '../rows/footer.ts';
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

/** A line of the report footer after the data (rows/footer.ts): skipped, not a lead and not a failure. */
function footerRow(record: SourceRecord, cells: readonly string[]): RowCheck {
  const text = cells.find((c) => c.trim() !== '')?.trim();
  const message = text
    ? `line ${record.line}: ${JSON.stringify(text)} is the export's footer after the data, not a lead; skipped`
    : `line ${record.line}: an empty line inside the export's footer after the data; skipped`;
  return { ok: false, outcome: rowOutcome({ line: record.line, id: '', warnings: [] }, 'skipped', { errorCode: FOOTER, message }) };
}

/** A row whose bytes read better in another code page than the file's (the reader's doubt): never sent as read. */
function doubtedRow(record: SourceRecord, idCell: string, doubt: NonNullable<SourceRecord['encodingDoubt']>): RowCheck {
  return invalidRow(
    record,
    idCell,
    'ENCODING_DOUBT',
    `line ${record.line}: the row's text reads badly in the file's code page (${JSON.stringify(doubt.word)}) and ` +
      `better as ${doubt.readsAs}: if the file is ${doubt.readsAs}, run it with --encoding ${doubt.readsAs}; ` +
      'otherwise save it as "CSV UTF-8" and upload again',
  );
}

/**
 * The checks on a row as a whole, before its cells: a report footer line, a doubted encoding, the cell count
 * against the header, and a repeated header line. Returns the outcome, or undefined when the row is fit to read.
 */
export function shapeChecker(
  columns: Column[],
  headerLength: number,
): (record: SourceRecord, cells: string[], idCell: string) => RowCheck | undefined {
  // Cells under trailing empty header cells (Excel's trailing delimiter) may be missing from a row.
  const minCells = Math.max(...columns.map((c) => c.index)) + 1;
  return (record, cells, idCell) => {
    const { line } = record;
    if (record.footer) return footerRow(record, cells);
    if (record.encodingDoubt) return doubtedRow(record, idCell, record.encodingDoubt);
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
