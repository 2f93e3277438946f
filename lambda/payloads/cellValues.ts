import type { LeadFields } from '../types.ts';
import { addProblem, type CellFault, type CellProblem } from './cellProblems.ts';
import { applyClear } from './clearMarker.ts';
import { checkCurrencies, type SignedAmount } from './currencyCheck.ts';
import { addMultifieldValues } from './multifieldCells.ts';
import type { ColumnPlan } from './columnPlan.ts';
import { Bad } from './values/parser.ts';

/** What a row's (non-ID) cells come to. */
export interface RowValues {
  fields: LeadFields;
  /** Multifield VALUE_TYPEs to clear (`PHONE:MOBILE`), made on first use. */
  clears: string[] | undefined;
  /** ADDRESS_* codes the row sets, made on first use (for the partial-address warning). */
  addressSet: string[] | undefined;
  /** Made on the first problem; a row with any is rejected. */
  problems: CellProblem[] | undefined;
  /** What the report says about values sent otherwise than written (rounded, a sign taken off); made on first use. */
  warnings: string[] | undefined;
  /** Amount cells that carried a currency sign, made on first use (checked against CURRENCY_ID at the row's end). */
  signed: SignedAmount[] | undefined;
}

/**
 * The reader of a row's cells, one plan per column: each non-blank cell is checked for defects, then cleared
 * (the clear marker), taken as text, or parsed by the column's schema. `problems` carries the ID's, if any.
 */
export function valuesReader(
  plans: readonly ColumnPlan[],
  marker: string,
  findDefect: (cell: string) => CellFault | undefined,
): (cells: readonly string[], line: number, problems: CellProblem[] | undefined) => RowValues {
  const currencyHeader = plans.find((p) => p.code === 'CURRENCY_ID')?.header;
  const readCell = (plan: ColumnPlan, cell: string | undefined, line: number, row: RowValues): void => {
    if (cell === undefined || cell === '') return;
    const defect = findDefect(cell);
    if (defect) {
      row.problems = addProblem(row.problems, defect[0], line, plan.header, defect[1]);
      return;
    }
    const text = cell.trim();
    if (text === '') return;
    if (plan.address) {
      row.addressSet ??= [];
      row.addressSet.push(plan.code);
    }
    if (text === marker) {
      if (plan.clearRefusal) row.problems = addProblem(row.problems, 'INVALID_VALUE', line, plan.header, plan.clearRefusal);
      else row.clears = applyClear(plan, row.fields, row.clears);
    } else if (plan.amount) readAmount(plan, text, line, row);
    else if (plan.schema === undefined) row.fields[plan.code] = text;
    else {
      const r = plan.schema.safeParse(text);
      if (!r.success) row.problems = addProblem(row.problems, 'INVALID_VALUE', line, plan.header, r.error.issues[0].message);
      else if (plan.valueType !== undefined) addMultifieldValues(row.fields, plan.code, plan.valueType, r.data as string[]);
      else row.fields[plan.code] = r.data as LeadFields[string];
    }
  };
  return (cells, line, problems) => {
    const row: RowValues = { fields: {}, clears: undefined, addressSet: undefined, problems, warnings: undefined, signed: undefined };
    for (let p = 0; p < plans.length; p++) readCell(plans[p], cells[plans[p].index], line, row);
    if (row.signed) {
      const checked = checkCurrencies(row.signed, row.fields, currencyHeader, line);
      if (checked.problems) row.problems = [...(row.problems ?? []), ...checked.problems];
      if (checked.warnings.length > 0) row.warnings = [...(row.warnings ?? []), ...checked.warnings];
    }
    return row;
  };
}

/** An amount cell: its number, and the row's note when it is rounded or carried a currency sign. */
function readAmount(plan: ColumnPlan, text: string, line: number, row: RowValues): void {
  const r = plan.amount!(text);
  if (r instanceof Bad) {
    row.problems = addProblem(row.problems, 'INVALID_VALUE', line, plan.header, r.reason);
    return;
  }
  row.fields[plan.code] = r.value;
  if (r.rounding) {
    row.warnings ??= [];
    row.warnings.push(`line ${line}, ${plan.header}: ${r.rounding}`);
  }
  if (r.sign) {
    row.signed ??= [];
    row.signed.push({ code: plan.code, header: plan.header, cell: text, sign: r.sign });
  }
}
