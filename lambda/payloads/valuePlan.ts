import { type AmountReader, amountReader } from './amountCell.ts';
import { type ColumnPlan, planColumn, zodFrom } from './columnPlan.ts';
import type { Column } from './header.ts';
import { listSeparator, readsWithOptions, scalarParser, splitsValues, type ValueOptions } from './scalarParser.ts';
import { listOf } from './values/parser.ts';

/** A column plan with the run's value options applied. */
export interface ValuePlan extends ColumnPlan {
  /** A single amount (OPPORTUNITY, a custom double): read by amountCell.ts instead of `schema`. */
  amount?: AmountReader;
}

/**
 * planColumn, then what the run's options change: amounts read with the decided decimal mark (and rounded, their
 * currency sign kept for the row's check), dates with the date order. (Once planColumn takes ValueOptions itself,
 * the schema half of this goes.)
 */
export function planValues(column: Column, values: ValueOptions): ValuePlan {
  const plan = planColumn(column);
  const { spec } = column;
  if (plan.valueType !== undefined || plan.clearRefusal !== undefined || !readsWithOptions(spec.type) || spec.items?.length) return plan;
  if (spec.type === 'double' && !spec.multiple) return { ...plan, schema: undefined, amount: amountReader(spec, values.decimalMark) };
  const parse = scalarParser(spec, values);
  if (!spec.multiple) return { ...plan, schema: zodFrom(parse) };
  return splitsValues(spec) ? { ...plan, schema: zodFrom(listOf(parse, listSeparator(spec.type))) } : plan;
}

/**
 * The cells a file's decimal mark is decided from (decideDecimalMark): its amount columns (double fields, custom
 * ones included). For a pre-scan of the file before compileRows.
 */
export function amountIndexes(columns: readonly Column[]): number[] {
  return columns.filter((c) => c.valueType === undefined && c.spec.type === 'double').map((c) => c.index);
}
