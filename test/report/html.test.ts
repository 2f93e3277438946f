import { describe, expect, it } from 'vitest';
import { esc, renderReportHtml, resultText } from '../../lambda/report/html.ts';
import { MAX_PROBLEM_ROWS, problemDigest, readCsvLine } from '../../lambda/report/problems.ts';
import { formatOutcome, reportHeader } from '../../lambda/report/lines.ts';
import type { Summary } from '../../lambda/run/state.ts';
import type { RowOutcome } from '../../lambda/types.ts';

function summary(over: Partial<Summary> = {}): Summary {
  return {
    source: 's3://bucket/incoming/leads.csv',
    runId: 'r1',
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:02:05.000Z',
    rows: 3,
    counts: { updated: 2, unchanged: 0, valid: 0, invalid: 1, failed: 0, skipped: 0 },
    errorCodes: { INVALID_VALUE: 1 },
    dryRun: false,
    complete: true,
    warnings: 0,
    requests: 4,
    retries: 0,
    throttledMs: 0,
    limitErrors: {},
    rowsPerSecond: 1,
    report: { report: 'reports/x/report.csv', rejected: 'reports/x/rejected.csv', summary: 'reports/x/summary.json' },
    ...over,
  };
}

const outcome = (o: Partial<RowOutcome>): RowOutcome => ({
  line: 2,
  id: '1',
  status: 'updated',
  errorCode: '',
  message: '',
  attempts: 1,
  ...o,
});

describe('report.html', () => {
  it('escapes every text of the run: a hostile TITLE in a message shows as text, never as markup', () => {
    const digest = problemDigest();
    digest.feed(reportHeader());
    digest.feed(
      formatOutcome(
        outcome({ status: 'invalid', errorCode: 'INVALID_VALUE', message: 'line 2, TITLE: "<script>alert(1)</script>" is bad' }),
      ),
    );
    const html = renderReportHtml({
      summary: summary({ source: 'incoming/<img src=x onerror=alert(1)>.csv' }),
      problems: digest.result(),
      files: ['report.csv'],
    });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    // The only script is ours, and the page may fetch nothing.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toContain(`default-src 'none'`);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('lists the problem rows with the column the message names, and one example message per code', () => {
    const digest = problemDigest();
    digest.feed(reportHeader());
    digest.feed(
      formatOutcome(
        outcome({
          line: 5,
          id: '7',
          status: 'invalid',
          errorCode: 'INVALID_VALUE',
          message: 'line 5, EMAIL_WORK: "bob@" is not an e-mail address',
        }),
      ) +
        formatOutcome(outcome({ line: 6, id: '8', status: 'failed', errorCode: 'NOT_FOUND', message: 'Not found' })) +
        formatOutcome(outcome({ line: 7, id: '9', status: 'skipped', errorCode: 'DEFERRED', message: 'later' })),
    );
    const got = digest.result();
    expect(got.rows.map((r) => [r.line, r.id, r.status, r.column, r.code])).toEqual([
      ['5', '7', 'invalid', 'EMAIL_WORK', 'INVALID_VALUE'],
      ['6', '8', 'failed', '', 'NOT_FOUND'],
    ]);
    expect(got.examples).toEqual({
      INVALID_VALUE: 'line 5, EMAIL_WORK: "bob@" is not an e-mail address',
      NOT_FOUND: 'Not found',
      DEFERRED: 'later',
    });
  });

  it('reads lines split anywhere across chunks, quoted commas and doubled quotes included', () => {
    const line = formatOutcome(outcome({ status: 'failed', errorCode: 'X', message: 'a, "b", c' }));
    const digest = problemDigest();
    const all = reportHeader() + line + line;
    for (let i = 0; i < all.length; i += 7) digest.feed(all.slice(i, i + 7));
    const got = digest.result();
    expect(got.rows).toHaveLength(2);
    expect(got.rows[1].message).toBe('a, "b", c');
    expect(readCsvLine('1,"x,""y""",,z')).toEqual(['1', 'x,"y"', '', 'z']);
  });

  it('stays small for a million problem rows: the table keeps the first rows and says how many more', () => {
    const digest = problemDigest();
    digest.feed(reportHeader());
    const line = formatOutcome(outcome({ status: 'invalid', errorCode: 'INVALID_ID', message: 'line 2, ID: "x" is not a lead ID' }));
    const block = line.repeat(10_000);
    for (let i = 0; i < 100; i++) digest.feed(block);
    const got = digest.result();
    expect(got.rows).toHaveLength(MAX_PROBLEM_ROWS);
    expect(got.more).toBe(1_000_000 - MAX_PROBLEM_ROWS);
    const html = renderReportHtml({
      summary: summary({ rows: 1_000_000, counts: { invalid: 1_000_000 } }),
      problems: got,
      files: ['report.csv'],
    });
    expect(html.length).toBeLessThan(600_000);
    expect(html).toContain('999,000 more in report.csv.');
  });

  it('says why a file was refused, and shows a run of zero rows without a table', () => {
    const refused = summary({
      rows: 0,
      counts: {},
      errorCodes: {},
      complete: false,
      refused: { code: 'MISSING_ID_COLUMN', message: 'no ID column' },
    });
    const html = renderReportHtml({ summary: refused, problems: problemDigest().result(), files: ['report.csv', 'summary.json'] });
    expect(html).toContain('The file was refused: MISSING_ID_COLUMN: no ID column');
    expect(html).toContain('id="no-problems"');
    expect(html).toContain('No row had an error code.');
    expect(resultText(summary({ rows: 0, counts: {}, errorCodes: {} }))).toBe('All 0 rows went through.');
  });

  it('links only the files that exist', () => {
    const html = renderReportHtml({ summary: summary(), problems: problemDigest().result(), files: ['report.csv', 'summary.json'] });
    expect(html).toContain('<a href="report.csv">');
    expect(html).not.toContain('href="rejected.csv"');
    expect(html).not.toContain('href="changes.csv"');
  });

  it('esc covers the five characters that matter in text and attributes', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });
});
