import { keyColumn, type MatchKey, type MatchSpec, rowKey } from '../calls/matching/keys.ts';
import { FileRefusedError } from '../errors.ts';
import type { CellProblem } from './cellProblems.ts';
import { planColumn } from './columnPlan.ts';
import type { Column } from './header.ts';
import type { ValueOptions } from './scalarParser.ts';

/**
 * `--match`: the reader of a row's key, from the first column of the matched field (lambda/calls/matching/keys.ts
 * says why that column and why one value). The cell is parsed as its column is (so `Ann@X.com ` and an e-mail
 * the syntax check refuses fare as they would anyway), then turned into the key the lead is looked up by.
 *
 * @throws FileRefusedError MISSING_KEY_COLUMN when no column holds the field (readHeader refuses such headers first)
 */
export function keyReader(
  match: MatchSpec,
  columns: readonly Column[],
  values: ValueOptions,
): (cells: readonly string[], line: number) => { key?: MatchKey; problem?: CellProblem } {
  const column = keyColumn(match, columns);
  if (!column)
    throw new FileRefusedError('MISSING_KEY_COLUMN', 'compileRows: no column holds the --match field (readHeader refuses such headers)');
  const schema = planColumn(column, values).schema;
  return (cells, line) => {
    const cell = (cells[column.index] ?? '').trim();
    const parsed = cell === '' || !schema ? { success: true as const, data: cell } : schema.safeParse(cell);
    // A cell its own column refuses is reported by that column's check, with the usual code.
    if (!parsed.success) return {};
    const k = rowKey(match, column.header, parsed.data);
    return k.ok ? { key: k.key } : { problem: { code: 'INVALID_KEY', text: `line ${line}, ${k.message}` } };
  };
}
