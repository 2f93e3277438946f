import type { SourceRecord, RowCheck } from '../types.ts';
import { invalidRow } from './invalidRow.ts';

/** Problem codes in order of precedence: a row's errorCode is the first present. */
const PROBLEM_ORDER = ['CELL_TOO_LARGE', 'CONTROL_CHARACTER', 'INVALID_ID', 'INVALID_KEY', 'INVALID_VALUE'] as const;
export type ProblemCode = (typeof PROBLEM_ORDER)[number];

/** What is wrong with one cell: a code and the reason, before the `line, column:` prefix. */
export type CellFault = readonly [ProblemCode, string];

/** One cell's problem as the row's message lists it. */
export interface CellProblem {
  code: ProblemCode;
  text: string;
}

/**
 * Appends one problem in the documented form `line 42, EMAIL_WORK: "bob@" is not an e-mail address`. The list
 * is made on the first problem: most rows have none.
 */
export function addProblem(
  problems: CellProblem[] | undefined,
  code: ProblemCode,
  line: number,
  header: string,
  text: string,
): CellProblem[] {
  const list = problems ?? [];
  list.push({ code, text: `line ${line}, ${header}: ${text}` });
  return list;
}

/** The row rejected for its cell problems: the most important code, every problem in the message. */
export function rejectedForProblems(record: SourceRecord, id: string, problems: readonly CellProblem[]): RowCheck {
  const code = PROBLEM_ORDER.find((c) => problems.some((x) => x.code === c))!;
  return invalidRow(record, id, code, problems.map((x) => x.text).join('; '));
}
