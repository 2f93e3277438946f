import { describe, expect, it } from 'vitest';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, runEventDetail, runMessage, runResult } from '../../lambda/report/notice.ts';
import type { Summary } from '../../lambda/run/state.ts';

const base: Summary = {
  source: 's3://imports/incoming/leads.csv',
  runId: 'leads-csv-abc',
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T11:00:00.000Z',
  rows: 10,
  counts: { updated: 6, unchanged: 1, valid: 0, invalid: 2, failed: 1, skipped: 0 },
  errorCodes: { INVALID_VALUE: 2, NOT_FOUND: 1 },
  dryRun: false,
  complete: true,
  warnings: 0,
  requests: 3,
  retries: 0,
  throttledMs: 0,
  limitErrors: {},
  rowsPerSecond: 0,
  report: {
    report: 'reports/r/report.csv',
    rejected: 'reports/r/rejected.csv',
    summary: 'reports/r/summary.json',
    html: 'reports/r/report.html',
  },
};

describe('the message a run sends when it ends', () => {
  it('names the result in one word a rule can match on', () => {
    expect(runResult(base)).toBe('incomplete');
    expect(runResult({ ...base, counts: { updated: 10 } })).toBe('complete');
    expect(runResult({ ...base, refused: { code: 'NOT_TEXT', message: 'binary' } })).toBe('refused');
    expect(runResult({ ...base, halted: { code: 'PORTAL_UNREACHABLE', message: 'down' } })).toBe('halted');
    expect(runResult({ ...base, error: { code: 'RUN_FAILED', message: 'x' } })).toBe('failed');
  });

  it('the detail carries counts, the top codes and the report keys; the text says file, result, counts and links', () => {
    const d = runEventDetail(base, 'imports', {
      html: 'https://imports.s3.amazonaws.com/reports/r/report.html?X-Amz-Signature=1',
      validUntil: '2026-12-08T11:00:00.000Z',
      folder: 's3://imports/reports/r/',
    });
    expect(d).toMatchObject({ runId: 'leads-csv-abc', result: 'incomplete', rows: 10, bucket: 'imports', report: base.report });
    expect(d.topErrorCodes).toEqual([
      { code: 'INVALID_VALUE', rows: 2 },
      { code: 'NOT_FOUND', rows: 1 },
    ]);
    expect(d.message.split('\n')).toEqual([
      'b24-lead-import: s3://imports/incoming/leads.csv — incomplete',
      '7 of 10 rows went through; 3 need attention.',
      'Rows: 10 (updated 6, unchanged 1, invalid 2, failed 1)',
      'Top error codes: INVALID_VALUE 2, NOT_FOUND 1',
      'Run: leads-csv-abc, 2026-12-01T10:00:00.000Z → 2026-12-01T11:00:00.000Z',
      'Report: https://imports.s3.amazonaws.com/reports/r/report.html?X-Amz-Signature=1',
      'Link valid until 2026-12-08 11:00 UTC',
      'Files: s3://imports/reports/r/',
    ]);
    expect(JSON.stringify(d).length).toBeLessThan(256 * 1024);
    expect([EVENT_SOURCE, EVENT_DETAIL_TYPE]).toEqual(['b24-lead-import', 'Import run finished']);
  });

  it('a dry run and a refused file say so', () => {
    const text = runMessage({
      ...base,
      dryRun: true,
      rows: 0,
      counts: {},
      errorCodes: {},
      refused: { code: 'MISSING_ID_COLUMN', message: 'no ID column' },
    });
    expect(text).toContain('dry run of s3://imports/incoming/leads.csv — refused');
    expect(text).toContain('The file was refused: MISSING_ID_COLUMN: no ID column');
    expect(text).not.toContain('Top error codes');
  });
});
