import { rowOutcome } from '../../report/outcome.ts';
import type { RowOutcome, ValidRow } from '../../types.ts';
import type { SendItem } from './item.ts';

/** The sender's outcomes, positional for brevity: status, code, message, sends, changed fields. */
export function outcome(
  row: ValidRow,
  status: RowOutcome['status'],
  errorCode: string,
  message: string,
  attempts: number,
  changes?: string[],
): RowOutcome {
  return rowOutcome(row, status, { errorCode, message, attempts, changes });
}

/** The item's write is applied (the row's warnings ride along). */
export function updated(it: SendItem): RowOutcome {
  const o = outcome(it.row, 'updated', it.row.code ?? '', it.row.warnings.join('; '), it.attempts, it.changes);
  if (it.log?.length) o.log = it.log;
  return o;
}

/** The portal's code for a row, or ours when the portal leaves it empty (crm's "Not found"…). */
export function rowCode(code: string, description: string): string {
  if (code) return code;
  if (/not found/i.test(description)) return 'NOT_FOUND';
  if (/id is not defined or invalid/i.test(description)) return 'INVALID_ID';
  if (/access denied/i.test(description)) return 'ACCESS_DENIED';
  return 'PORTAL_ERROR';
}
