import type { RunOptions } from '../config.ts';
import { FileRefusedError } from '../errors.ts';
import type { Catalogue, RowCheck, SourceRecord } from '../types.ts';
import { defectFinder } from './cellDefects.ts';
import { addProblem, rejectedForProblems } from './cellProblems.ts';
import { valuesReader } from './cellValues.ts';
import { clearMarkerOf } from './clearMarker.ts';
import type { Column } from './header.ts';
import { EMPTY_ID, idReader } from './idCell.ts';
import { allEmpty, emptyRow, shapeChecker } from './rowShape.ts';
import { rowWarner } from './rowWarnings.ts';
import { BOM, withoutBoms } from './strayBoms.ts';
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
export type RowOptions = Pick<RunOptions, 'clearMarker' | 'decimalMark' | 'dateOrder'> & {
  input: Pick<RunOptions['input'], 'maxCellBytes'>;
};

/**
 * Builds the row checker for one header.
 *
 * @param columns from resolveHeader
 * @param headerLength number of header cells, including empty ones (the expected cell count)
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
): (record: SourceRecord) => RowCheck {
  void catalogue; // the columns already carry their FieldSpecs; kept for the shared signature
  const idColumn = columns.find((c) => c.code === 'ID');
  if (!idColumn)
    throw new FileRefusedError('MISSING_ID_COLUMN', 'compileRows: the columns have no ID column (resolveHeader refuses such headers)');
  const { index: idIndex, header: idHeader } = idColumn;
  const marker = clearMarkerOf(options);
  const findDefect = defectFinder(options.input.maxCellBytes);
  const checkShape = shapeChecker(columns, headerLength);
  const readId = idReader(marker, findDefect);
  const plans = columns.filter((c) => c !== idColumn).map((c) => planColumn(c, options));
  const readValues = valuesReader(plans, marker, findDefect);
  const warningsOf = rowWarner(columns, headerLength);
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
    const idProblems = typeof id === 'number' ? undefined : addProblem(undefined, id[0], line, idHeader, id[1]);
    const values = readValues(cells, line, idProblems);
    if (values.problems) return rejectedForProblems(record, idCell.trim(), values.problems);

    const warnings = warningsOf(cells, line, values.addressSet, bomNotes);
    if (values.warnings) warnings.push(...values.warnings);
    // No problems, so the ID was read (a fault would be one).
    return { ok: true, row: { line, id: id as number, fields: values.fields, clears: values.clears ?? [], warnings, raw: record.raw } };
  };
}
