import type { CellFault } from './cellProblems.ts';
import { zodFrom } from './columnPlan.ts';
import { quote } from './quote.ts';
import { idParser } from './values/ids.ts';

/** The fault of a blank ID cell, returned as this very tuple: a row that is blank throughout is EMPTY_ROW instead. */
export const EMPTY_ID: CellFault = ['INVALID_ID', 'the ID is empty'];

/**
 * The reader of the lead ID cell: the ID, or what is wrong with the cell. Any fault is INVALID_ID, except a
 * cell too large or holding a control character, which keep their own codes.
 */
export function idReader(marker: string, findDefect: (cell: string) => CellFault | undefined): (idCell: string) => number | CellFault {
  const idSchema = zodFrom(idParser('a lead ID'));
  return (idCell) => {
    const defect = findDefect(idCell);
    if (defect) return defect[0] === 'INVALID_VALUE' ? ['INVALID_ID', defect[1]] : defect;
    const idText = idCell.trim();
    if (idText === '') return EMPTY_ID;
    if (idText === marker) return ['INVALID_ID', `${quote(idText)} is the clear marker; the ID cannot be cleared`];
    const r = idSchema.safeParse(idText);
    return r.success ? (r.data as number) : ['INVALID_ID', r.error.issues[0].message];
  };
}
