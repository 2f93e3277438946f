import type { RunOptions } from '../config.ts';
import { FileRefusedError } from '../errors.ts';
import type { Catalogue, RowCheck, SourceRecord } from '../types.ts';
import { defectFinder } from './cellDefects.ts';
import { addProblem, type CellProblem, rejectedForProblems } from './cellProblems.ts';
import { valuesReader } from './cellValues.ts';
import { clearMarkerOf } from './clearMarker.ts';
import type { Column } from './header.ts';
import { EMPTY_ID, idReader } from './idCell.ts';
import { allEmpty, emptyRow, shapeChecker } from './rowShape.ts';
import { type AddressTally, rowWarner } from './rowWarnings.ts';
import { BOM, withoutBoms } from './strayBoms.ts';
import { keyReader } from './keyCell.ts';
import { matchSpecOf } from './header.ts';
import { planColumn } from './columnPlan.ts';

/**
 * Rows → payloads: one record's cells → a ValidRow (a crm.lead.update payload) or an `invalid` RowOutcome.
 * Everything per column (plans, zod schemas) is built once in compileRows; the returned function runs for
 * every row.
 */

/**
 * What compileRows reads from the run options. `decimalMark` is the run's setting or the mark decided for the
 * file from its amounts (decideDecimalMark): either way ambiguous amounts are read by it. Phones are sent as
 * written, so `phoneCountry` is the planner's (calls/planning), not compile's.
 */
export type RowOptions = Pick<RunOptions, 'clearMarker' | 'decimalMark' | 'dateOrder'> &
  Partial<Pick<RunOptions, 'match'>> & {
    input: Pick<RunOptions['input'], 'maxCellBytes'>;
  };

/**
 * Builds the row checker for one header.
 *
 * @param columns from resolveHeader
 * @param headerLength number of header cells, including empty ones (the expected cell count)
 * @param tally where partial addresses are counted for the run's one warning (without it, each row warns)
 * @example
 * const check = compileRows(columns, options, catalogue, header.length);
 * const r = check({ line: 2, cells: ['12', 'bob@example.com'], raw: '12,bob@example.com', start: 3, end: 22 });
 * // r.ok && r.row.fields.EMAIL → [{ VALUE: 'bob@example.com', VALUE_TYPE: 'WORK' }]
 * @throws FileRefusedError MISSING_ID_COLUMN when `columns` has no ID column (resolveHeader refuses such headers first)
 */
export function compileRows(
  columns: Column[],
  options: RowOptions,
  catalogue: Catalogue,
  headerLength: number,
  tally?: AddressTally,
): (record: SourceRecord) => RowCheck {
  const match = matchSpecOf(options.match, catalogue);
  const idColumn = columns.find((c) => c.code === 'ID');
  if (!idColumn && !match)
    throw new FileRefusedError('MISSING_ID_COLUMN', 'compileRows: the columns have no ID column (resolveHeader refuses such headers)');
  const { index: idIndex, header: idHeader } = idColumn ?? { index: -1, header: 'ID' };
  const marker = clearMarkerOf(options);
  const findDefect = defectFinder(options.input.maxCellBytes);
  const checkShape = shapeChecker(columns, headerLength);
  const readId = idReader(marker, findDefect);
  const values = { decimalMark: options.decimalMark, dateOrder: options.dateOrder };
  const readKey = match ? keyReader(match, columns, values) : undefined;
  const plans = columns.filter((c) => c !== idColumn).map((c) => planColumn(c, values));
  const readValues = valuesReader(plans, marker, findDefect);
  const warningsOf = rowWarner(columns, headerLength, tally);
  const headerAt = new Map(columns.map((c) => [c.index, c.header]));

  return (record) => {
    const { line } = record;
    let cells = record.cells;
    let bomNotes: string[] | undefined;
    if (record.raw.includes(BOM)) [cells, bomNotes] = withoutBoms(cells, line, headerAt);
    const idCell = cells[idIndex] ?? '';
    const misshapen = checkShape(record, cells, idCell);
    if (misshapen) return misshapen;

    const id = readId(idCell);
    if (id === EMPTY_ID && allEmpty(cells, 0)) return emptyRow(record, idCell);
    // A row with an ID uses it; without one, `--match` finds the lead by the key column.
    const keyed = id === EMPTY_ID && readKey ? readKey(cells, line) : undefined;
    let idProblems: CellProblem[] | undefined;
    if (keyed) idProblems = keyed.problem && [keyed.problem];
    else if (typeof id !== 'number') idProblems = addProblem(undefined, id[0], line, idHeader, id[1]);
    const read = readValues(cells, line, idProblems);
    if (read.problems) return rejectedForProblems(record, idCell.trim(), read.problems);

    const warnings = warningsOf(cells, line, read.addressSet, bomNotes);
    if (read.warnings) warnings.push(...read.warnings);
    const row = { line, id: keyed ? 0 : (id as number), fields: read.fields, clears: read.clears ?? [], warnings, raw: record.raw };
    // No problems, so the ID (or the key) was read (a fault would be one).
    return { ok: true, row: keyed?.key ? { ...row, key: keyed.key } : row };
  };
}
