import { describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../lambda/config.ts';
import { buildSummary, csvCell, exitCodeFor, formatOutcome, formatRejected, reportHeader, safeCell } from '../../lambda/report/lines.ts';
import { newRunState } from '../../lambda/run/drive.ts';
import type { RowOutcome } from '../../lambda/types.ts';

const outcome = (o: Partial<RowOutcome>): RowOutcome => ({
  line: 2,
  id: '7',
  status: 'valid',
  errorCode: '',
  message: '',
  attempts: 0,
  ...o,
});

describe('report lines', () => {
  it('has the contract header', () => {
    expect(reportHeader()).toBe('line,id,status,error_code,error_message,attempts\r\n');
  });

  it('writes one CSV line per outcome in the header order', () => {
    expect(formatOutcome(outcome({ line: 12, id: '42', status: 'updated', attempts: 2 }))).toBe('12,42,updated,,,2\r\n');
  });

  it('quotes commas, quotes, line breaks and edge spaces', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(' padded')).toBe('" padded"');
    expect(csvCell('plain text')).toBe('plain text');
  });

  it('neutralises cells Excel would run as formulas', () => {
    for (const bad of ['=1+1', '+7 999', '-5', '@SUM(A1)', '\tx', '\rx']) expect(safeCell(bad)).toBe(`'${bad}`);
    expect(safeCell('Bob')).toBe('Bob');
    expect(safeCell('')).toBe('');
    const line = formatOutcome(
      outcome({ id: '=HYPERLINK("http://evil")', status: 'invalid', errorCode: 'INVALID_ID', message: '=cmd|"/c calc"!A1' }),
    );
    expect(line).toBe(`2,"'=HYPERLINK(""http://evil"")",invalid,INVALID_ID,"'=cmd|""/c calc""!A1",0\r\n`);
  });

  it('keeps the raw rejected row exactly as read', () => {
    expect(formatRejected('1,"a\nb",=x')).toBe('1,"a\nb",=x\r\n');
  });
});

describe('buildSummary', () => {
  const base = () =>
    newRunState({
      source: { bucket: 'b', key: 'incoming/a.csv', size: 10, etag: '"e"' },
      reportPrefix: 'reports/a/',
      partsPrefix: 'parts/x/',
      options: parseRunOptions({ dryRun: true }),
      startedAt: '2026-01-01T00:00:00.000Z',
    });

  it('shows every status count, codes, rate and where the files are', () => {
    const s = base();
    s.checkpoint = {
      ...s.checkpoint,
      rows: 300,
      counts: { valid: 290, invalid: 10 },
      errorCodes: { INVALID_ID: 10 },
      activeMs: 1500,
      done: true,
    };
    const summary = buildSummary(s, '2026-01-01T00:00:02.000Z');
    expect(summary.counts).toEqual({ updated: 0, unchanged: 0, valid: 290, invalid: 10, failed: 0, skipped: 0 });
    expect(summary).toMatchObject({
      source: 's3://b/incoming/a.csv',
      rows: 300,
      dryRun: true,
      complete: true,
      rowsPerSecond: 200,
      report: { report: 'reports/a/report.csv', rejected: 'reports/a/rejected.csv', summary: 'reports/a/summary.json' },
    });
    expect(exitCodeFor(summary)).toBe(1);
  });

  it('is incomplete when cut short, halted, failed or unfinished; refused is exit 2', () => {
    const s = base();
    s.checkpoint = { ...s.checkpoint, done: true, cutShort: { line: 9, message: 'm' } };
    expect(buildSummary(s, 'x').complete).toBe(false);
    expect(exitCodeFor(buildSummary(s, 'x'))).toBe(1);
    s.checkpoint = { ...s.checkpoint, cutShort: undefined, done: true };
    expect(buildSummary(s, 'x').complete).toBe(true);
    expect(exitCodeFor(buildSummary(s, 'x'))).toBe(0);
    expect(buildSummary(s, 'x', { error: { code: 'E', message: 'boom' } }).complete).toBe(false);
    s.checkpoint = { ...s.checkpoint, refused: { code: 'EMPTY_FILE', message: 'empty' } };
    expect(exitCodeFor(buildSummary(s, 'x'))).toBe(2);
  });
});
