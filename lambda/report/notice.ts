import type { Summary } from '../run/state.ts';
import { resultText } from './html.ts';
import { rowsNeedingAttention } from './lines.ts';

/**
 * The message a run sends when it ends: one EventBridge event (source and detail-type below, documented in the
 * README) whose detail carries the counts, the top error codes and where the report files are, plus the short
 * text the stack's optional SNS topic mails (an input transformer forwards `detail.message` as it is).
 */

export const EVENT_SOURCE = 'b24-lead-import';
export const EVENT_DETAIL_TYPE = 'Import run finished';

/** How a run ended, in one word a rule can match on. */
export type RunResult = 'complete' | 'incomplete' | 'refused' | 'halted' | 'failed';

export interface RunEventDetail {
  runId: string;
  source: string;
  result: RunResult;
  dryRun: boolean;
  rows: number;
  counts: Summary['counts'];
  /** The five most frequent error codes, most frequent first. */
  topErrorCodes: { code: string; rows: number }[];
  bucket?: string;
  /** S3 keys of the run's files. */
  report: Summary['report'];
  /** What a person reads (the SNS mail). */
  message: string;
}

/** Links a person may open; pre-signed by the caller (or local paths), never carrying the webhook. */
export interface NoticeLinks {
  html?: string;
  rejected?: string;
  /** When pre-signed links stop working (ISO 8601); absent for local files. */
  validUntil?: string;
  /** Signed with temporary credentials of unknown end: validUntil is the latest, the links may die sooner. */
  sessionBound?: boolean;
  /** Where the run's files stay after the links expire (s3://bucket/reports/…/, or a local folder). */
  folder?: string;
}

export function runResult(s: Summary): RunResult {
  if (s.refused) return 'refused';
  if (s.error) return 'failed';
  if (s.halted) return 'halted';
  return s.complete && rowsNeedingAttention(s) === 0 ? 'complete' : 'incomplete';
}

export function topErrorCodes(s: Summary, n = 5): RunEventDetail['topErrorCodes'] {
  return Object.entries(s.errorCodes)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([code, rows]) => ({ code, rows }));
}

/** An ISO time as a person reads it, to the minute (rounded down: the link works at least that long). */
export const utcMinute = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/** When the message's links stop working, in words; nothing for local files. */
function validityLine(links: NoticeLinks): string[] {
  if (!links.validUntil) return [];
  const what = [links.html, links.rejected].filter(Boolean).length > 1 ? 'Links' : 'Link';
  const until = utcMinute(links.validUntil);
  return [
    links.sessionBound ? `${what} valid until the signing role's session ends, ${until} at the latest` : `${what} valid until ${until}`,
  ];
}

/** The mail: file, result, counts, top codes, links (each on its own line, as mail clients show them). */
export function runMessage(s: Summary, links: NoticeLinks = {}): string {
  const counts = Object.entries(s.counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const codes = topErrorCodes(s)
    .map((c) => `${c.code} ${c.rows}`)
    .join(', ');
  const lines = [
    `b24-lead-import: ${s.dryRun ? 'dry run of ' : ''}${s.source} — ${runResult(s)}`,
    resultText(s),
    `Rows: ${s.rows}${counts ? ` (${counts})` : ''}`,
    ...(codes ? [`Top error codes: ${codes}`] : []),
    `Run: ${s.runId}, ${s.startedAt} → ${s.finishedAt}`,
    ...(links.html ? [`Report: ${links.html}`] : []),
    ...(links.rejected ? [`Rows to fix (rejected.csv): ${links.rejected}`] : []),
    ...(links.html || links.rejected ? validityLine(links) : []),
    ...(links.folder ? [`Files: ${links.folder}`] : []),
  ];
  return lines.join('\n');
}

export function runEventDetail(s: Summary, bucket: string | undefined, links: NoticeLinks = {}): RunEventDetail {
  return {
    runId: s.runId,
    source: s.source,
    result: runResult(s),
    dryRun: s.dryRun,
    rows: s.rows,
    counts: s.counts,
    topErrorCodes: topErrorCodes(s),
    ...(bucket ? { bucket } : {}),
    report: s.report,
    message: runMessage(s, links),
  };
}
