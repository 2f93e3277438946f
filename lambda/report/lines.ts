import { partialAddressNotice } from '../payloads/rowWarnings.ts';
import { seriesDeltas } from '../run/series.ts';
import { CHANGES_FILE, CHANGES_JSON_FILE, hasChangeLog } from './changeFiles.ts';
import { FOOTER } from '../rows/footer.ts';
import { splitCells } from '../rows/splitCells.ts';
import type { RunState, Summary } from '../run/state.ts';
import type { RowOutcome, RowStatus } from '../types.ts';

/** Line break of report.csv, plan.csv, rejected.csv and rejected.safe.csv (RFC 4180; Excel reads it everywhere). */
export const EOL = '\r\n';

/** One report.csv column: its header name and how an outcome fills it (raw text: formatCell guards every cell). */
export interface ReportColumn {
  name: string;
  cell(o: RowOutcome): string;
}

/** The report's columns, in order: the header and every line come from this one list. */
export const REPORT_COLUMNS: readonly ReportColumn[] = [
  { name: 'line', cell: (o) => String(o.line) },
  { name: 'id', cell: (o) => o.id },
  { name: 'status', cell: (o) => o.status },
  { name: 'error_code', cell: (o) => o.errorCode },
  { name: 'error_message', cell: (o) => o.message },
  { name: 'attempts', cell: (o) => String(o.attempts) },
];

/**
 * plan.csv (written when rows go through the portal): what each row changes, like a plan before apply.
 * `changes` lists field codes in the row's column order, `;`-separated; multifields per VALUE_TYPE with
 * `+n` added, `-n` deleted, `~n` rewritten (e.g. `TITLE;PHONE:MOBILE+1-2`). Empty for unchanged rows.
 */
export const PLAN_COLUMNS: readonly ReportColumn[] = [
  REPORT_COLUMNS[0],
  REPORT_COLUMNS[1],
  REPORT_COLUMNS[2],
  { name: 'changes', cell: (o) => o.changes ?? '' },
];

export const REPORT_FILE = 'report.csv';
export const PLAN_FILE = 'plan.csv';
export const REJECTED_FILE = 'rejected.csv';
/** rejected.csv's rows with their cells guarded like the report's: the copy to open in a spreadsheet. */
export const REJECTED_SAFE_FILE = 'rejected.safe.csv';
export const SUMMARY_FILE = 'summary.json';
/** The run's report for a person: one self-contained page (lambda/report/html.ts). */
export const HTML_FILE = 'report.html';

/** Every status, so summary.json always shows all counts (0 included). */
export const STATUSES: readonly RowStatus[] = ['updated', 'unchanged', 'valid', 'invalid', 'failed', 'skipped'];

/** Statuses whose raw row goes to rejected.csv (the user fixes and re-uploads them). */
export function isRejected(status: RowStatus): boolean {
  return status === 'invalid' || status === 'failed';
}

/**
 * Where a spreadsheet may start a new cell: the start, and after any list separator some locale uses (`,`;
 * `;` in a Russian Excel; tab; `|`) or a line break, past the spaces and quotes a parser drops.
 */
// The lookahead first: the same matches, but a run of quotes is no longer scanned back from every position (quadratic).
const SEGMENT_START = /(?=[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])(?<=(?:^|[,;\t|\r\n])[ "]*)/g;

/**
 * Every segment of a cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR, or their
 * full-width forms first, at the start or after a list separator of any locale) gets a leading `'`. Running
 * it twice changes nothing.
 *
 * @example safeCell('=HYPERLINK("http://x")') // → `'=HYPERLINK("http://x")`
 * @example safeCell("1;=cmd|' /C calc'!A0") // → `1;'=cmd|' /C calc'!A0`
 */
export function safeCell(value: string): string {
  return value === '' ? value : value.replace(SEGMENT_START, "'");
}

/** Cells holding a list separator of any locale, a quote, a line break or edge spaces are quoted. */
const NEEDS_QUOTES = /[",;\t|\r\n]|^\s|\s$/;

/** RFC 4180 quoting: a cell with a separator (`,` `;` tab `|`), quote, line break or edge spaces is quoted, quotes doubled. */
export function csvCell(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${doubleQuotes(value)}"` : value;
}

/** `"` → `""`; over bytes for a huge cell (a 10 MB cell of quotes: 22 MB instead of replace's 171 MB peak). */
function doubleQuotes(value: string): string {
  if (value.length < 65_536) return value.replace(/"/g, '""');
  const b = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(b.length * 2);
  let w = 0;
  for (let r = 0; r < b.length; r++) {
    const c = b[r];
    out[w++] = c;
    if (c === 0x22) out[w++] = c;
  }
  return out.toString('utf8', 0, w);
}

/** The one cell formatter of every CSV we generate (report, plan, rejected.safe): formula-guarded, then quoted. */
export function formatCell(value: string): string {
  return csvCell(safeCell(value));
}

/** The report header line (with its line break). */
export function reportHeader(columns: readonly ReportColumn[] = REPORT_COLUMNS): string {
  return columns.map((c) => formatCell(c.name)).join(',') + EOL;
}

/**
 * One outcome → one report.csv line (with its line break).
 *
 * @example formatOutcome({ line: 3, id: '-1', status: 'invalid', errorCode: 'INVALID_ID', message: 'line 3, ID: "-1" is not a lead ID', attempts: 0 })
 * // → `3,'-1,invalid,INVALID_ID,"line 3, ID: ""-1"" is not a lead ID",0\r\n`
 */
export function formatOutcome(o: RowOutcome, columns: readonly ReportColumn[] = REPORT_COLUMNS): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) line += ',';
    line += formatCell(columns[i].cell(o));
  }
  return line + EOL;
}

/** One plan.csv line (with its line break). */
export function formatPlan(o: RowOutcome): string {
  return formatOutcome(o, PLAN_COLUMNS);
}

/**
 * One rejected.csv line: the user's raw record exactly as read (quoted line breaks included), so they can fix
 * and upload it again. Formulas stay in it: it is their data, not safe to open by double-click.
 */
export function formatRejected(raw: string): string {
  return raw + EOL;
}

/**
 * One rejected.safe.csv line: the same record cut into its cells (`delimiter` is the source's) and written
 * as the report writes cells (UTF-8 text, comma-separated, formula segments neutralised), safe to open.
 * The header line goes through it too.
 *
 * @example formatRejectedSafe('5;=SUM(1;2)', ';') // → `5,"'=SUM(1;2)"\r\n` (a quoted `;` stays in its cell)
 */
export function formatRejectedSafe(raw: string, delimiter: string): string {
  return splitCells(raw, delimiter).map(formatCell).join(',') + EOL;
}

/** Where the final files of a run go. */
export function reportKeys(state: Pick<RunState, 'reportPrefix'>): Summary['report'] {
  return {
    report: state.reportPrefix + REPORT_FILE,
    rejected: state.reportPrefix + REJECTED_FILE,
    rejectedSafe: state.reportPrefix + REJECTED_SAFE_FILE,
    summary: state.reportPrefix + SUMMARY_FILE,
    plan: state.reportPrefix + PLAN_FILE,
    html: state.reportPrefix + HTML_FILE,
    changes: state.reportPrefix + CHANGES_FILE,
    changesJson: state.reportPrefix + CHANGES_JSON_FILE,
  };
}

/** summary.json from the last state. `complete` means every record was read and none was held back. */
export function buildSummary(state: RunState, finishedAt: string, opts: { error?: Summary['error'] } = {}): Summary {
  const cp = state.checkpoint;
  const counts: Summary['counts'] = {};
  for (const s of STATUSES) counts[s] = cp.counts[s] ?? 0;
  const seconds = cp.activeMs / 1000;
  return {
    source: state.source.bucket ? `s3://${state.source.bucket}/${state.source.key}` : state.source.key,
    runId: state.runId,
    startedAt: state.startedAt,
    finishedAt,
    rows: cp.rows,
    counts,
    errorCodes: { ...cp.errorCodes },
    dryRun: state.options.dryRun,
    complete: cp.done && !cp.refused && !cp.cutShort && !cp.halted && !opts.error,
    ...(cp.refused ? { refused: cp.refused } : {}),
    ...(cp.cutShort ? { cutShort: cp.cutShort } : {}),
    ...(cp.halted ? { halted: cp.halted } : {}),
    ...(opts.error ? { error: opts.error } : {}),
    warnings: cp.warnings,
    notices: fileNotices(state),
    series: seriesDeltas(cp.series),
    changeLog: hasChangeLog(state.options),
    requests: cp.stats.requests,
    retries: cp.stats.retries,
    throttledMs: cp.stats.throttledMs,
    limitErrors: { ...cp.stats.limitErrors },
    rowsPerSecond: seconds > 0 ? Math.round(cp.rows / seconds) : 0,
    report: reportKeys(state),
  };
}

/** The run's file-level warnings: skipped columns, partial addresses counted once, a decimal mark the file settled. */
function fileNotices(state: RunState): string[] {
  const cp = state.checkpoint;
  const notices = [...(cp.notices ?? [])];
  const address = cp.addressTally && partialAddressNotice(cp.addressTally);
  if (address) notices.push(address);
  if (state.options.decimalMark === 'auto' && cp.decimalMark !== undefined && cp.decimalMark !== 'auto') {
    notices.push(
      `amounts read with "${cp.decimalMark}" as the decimal mark, as the file's first rows write it (--decimal-mark to say otherwise)`,
    );
  }
  return notices;
}

/**
 * The CLI's exit code for a finished run: 2 the file was refused, 1 some rows did not succeed (or the run
 * stopped early), 0 every row succeeded.
 */
export function exitCodeFor(summary: Summary): 0 | 1 | 2 {
  if (summary.refused) return 2;
  if (rowsNeedingAttention(summary) > 0 || !summary.complete) return 1;
  return 0;
}

/**
 * Rows that did not go through: invalid, failed and skipped ones, except the lines of a report footer after
 * the data (skipped FOOTER: nothing there was to import). The one count the exit code and the reports share.
 */
export function rowsNeedingAttention(s: Pick<Summary, 'counts' | 'errorCodes'>): number {
  const c = s.counts;
  return (c.invalid ?? 0) + (c.failed ?? 0) + (c.skipped ?? 0) - (s.errorCodes[FOOTER] ?? 0);
}
