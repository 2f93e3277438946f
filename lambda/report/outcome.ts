import type { RowOutcome, RowStatus, ValidRow } from '../types.ts';

/**
 * The one way to build a row's outcome from a validated row (the report's unit of truth).
 *
 * @example rowOutcome(row, 'failed', { errorCode: 'NOT_FOUND', message: 'Lead is not found', attempts: 1 })
 */
export function rowOutcome(
  row: { line: number; id: ValidRow['id'] | string; warnings: readonly string[] },
  status: RowStatus,
  detail: { errorCode?: string; message?: string; attempts?: number; changes?: readonly string[] } = {},
): RowOutcome {
  const o: RowOutcome = {
    line: row.line,
    // 0: a `--match` row whose lead was not found (no lead ID is 0).
    id: row.id === 0 ? '' : String(row.id),
    status,
    errorCode: detail.errorCode ?? '',
    message: detail.message ?? row.warnings.join('; '),
    attempts: detail.attempts ?? 0,
  };
  if (detail.changes?.length) o.changes = detail.changes.join(';');
  return o;
}
