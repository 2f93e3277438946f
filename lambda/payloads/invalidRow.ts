import { rowOutcome } from '../report/outcome.ts';
import type { RowCheck, SourceRecord } from '../types.ts';

/** An ID cell longer than any real ID is cut in the report (the raw row stays whole in rejected.csv). */
const REPORT_ID_CHARS = 80;

/** The `invalid` outcome of a row (never sent), with the ID cell as the report shows it. */
export function invalidRow(record: SourceRecord, id: string, errorCode: string, message: string): RowCheck {
  const shown = id.length > REPORT_ID_CHARS ? `${id.slice(0, REPORT_ID_CHARS).trim()}…` : id.trim();
  return {
    ok: false,
    outcome: rowOutcome({ line: record.line, id: shown, warnings: [] }, 'invalid', { errorCode, message }),
  };
}
