import { optionLines } from '../options/flags.ts';

/** `--help`: the options come from the flag table, the rest is written here. */
export const USAGE = `Usage: b24-lead-import <file.csv> [options]
       b24-lead-import undo <report folder> [options]   take a run back (its changes.jsonl)
       npm run cli -- <file.csv> [options]

Updates Bitrix24 CRM leads from a CSV file or an .xlsx workbook's first sheet (one row per lead, an ID
column, or --match to find leads by e-mail, phone or a custom field, and the fields to set), and writes a
per-row report (report.csv, report.html, rejected.csv, summary.json).

The portal is the webhook URL in the environment variable BITRIX24_WEBHOOK_URL
(e.g. https://example.bitrix24.com/rest/1/abc123/). It is a secret: there is no flag for it.

Options:
${optionLines().join('\n')}

Exit codes:
  0  every row succeeded (updated, unchanged, or valid in a dry run; report footers aside)
  1  some rows were invalid, failed or skipped, the file was cut short, or the run failed (report written)
  2  the file was refused (empty, unreadable, bad header…) or the command line is wrong
`;
