import { STATUSES } from '../report/lines.ts';
import type { Summary } from '../run/state.ts';
import type { CliIO } from './io.ts';

/** The run's outcome in a few lines: on stderr when the file was refused or the run failed, else on stdout. */
export function printSummary(io: CliIO, s: Summary, where: (key: string) => string): void {
  const lines: string[] = [];
  lines.push(`b24-lead-import: ${s.source}${s.dryRun ? ' (dry run)' : ''}`);
  if (s.refused) lines.push(`  refused: ${s.refused.code}: ${s.refused.message}`);
  else {
    const counts = STATUSES.filter((st) => (s.counts[st] ?? 0) > 0).map((st) => `${st} ${s.counts[st]}`);
    lines.push(`  rows: ${s.rows}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`);
    const codes = Object.entries(s.errorCodes).map(([c, n]) => `${c} ${n}`);
    if (codes.length > 0) lines.push(`  codes: ${codes.join(', ')}`);
  }
  for (const notice of s.notices ?? []) lines.push(`  warning: ${notice}`);
  if (s.cutShort) lines.push(`  cut short: ${s.cutShort.message}`);
  if (s.halted) lines.push(`  halted: ${s.halted.code}: ${s.halted.message}`);
  if (s.error) lines.push(`  run failed: ${s.error.code}: ${s.error.message}`);
  if (s.requests > 0) lines.push(`  requests: ${s.requests}, retries: ${s.retries}, throttled: ${Math.round(s.throttledMs / 1000)} s`);
  if (s.rowsPerSecond > 0) lines.push(`  speed: ${s.rowsPerSecond} rows/s`);
  lines.push(`  report:   ${where(s.report.report)}`);
  lines.push(`  rejected: ${where(s.report.rejected)}`);
  lines.push(`  summary:  ${where(s.report.summary)}`);
  if (s.report.plan) lines.push(`  plan:     ${where(s.report.plan)}`);
  if (s.report.html) lines.push(`  page:     ${where(s.report.html)}`);
  (s.refused || s.error ? io.stderr : io.stdout).write(lines.join('\n') + '\n');
}
