import { EOL, formatCell } from './lines.ts';

/**
 * The change log's files and header, apart from how entries are made (changeLog.ts pulls in the diff's
 * normalisers): finalize and the start function name these without loading them.
 */

export const CHANGES_FILE = 'changes.csv';
export const CHANGES_JSON_FILE = 'changes.jsonl';
export const CHANGE_COLUMNS = ['line', 'id', 'field', 'before', 'after'] as const;

/** A run keeps a change log when it writes from reads: a real run in diff mode (--no-diff reads nothing). */
export function hasChangeLog(options: { dryRun: boolean; diff: boolean }): boolean {
  return !options.dryRun && options.diff;
}

/** changes.csv's header line. */
export function changesHeader(): string {
  return CHANGE_COLUMNS.map(formatCell).join(',') + EOL;
}
