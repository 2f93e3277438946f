import { describe, expect, it } from 'vitest';
import { reportPrefixFor, runOfReportPrefix, undoInputKeyFor } from '../../lambda/run/keys.ts';

/**
 * Report prefixes of keys outside incoming/: the undo's input (written by start for `{ "undo": … }`) and any other
 * key a run may read. The old code sliced `incoming/`'s length off every key, whatever it started with.
 */
describe('reportPrefixFor a key outside incoming/', () => {
  it("an undo's input undo/<file>/<run>.csv reports under reports/<file>-undo/<undo's run>/", () => {
    expect(reportPrefixFor('undo/may.csv/0123456789abcdef.csv', 'fedcba9876543210')).toBe('reports/may.csv-undo/fedcba9876543210/');
    expect(reportPrefixFor('undo/2024/may.csv/abc.csv', 'u1')).toBe('reports/2024/may.csv-undo/u1/');
  });

  it('any other key keeps its whole name (nothing cut off its front)', () => {
    expect(reportPrefixFor('other/x.csv', 'r1')).toBe('reports/other/x.csv/r1/');
    expect(reportPrefixFor('undo/x.csv', 'r1')).toBe('reports/undo/x.csv/r1/');
    expect(reportPrefixFor('incoming/2024/may.csv', 'abc')).toBe('reports/2024/may.csv/abc/');
  });

  it('an undo of an undo: reports/<file>-undo/<u1>/ → undo/<file>-undo/<u1>.csv → reports/<file>-undo-undo/<u2>/', () => {
    const first = reportPrefixFor(undoInputKeyFor('reports/may.csv/r0/')!, 'u1');
    expect(first).toBe('reports/may.csv-undo/u1/');
    expect(undoInputKeyFor(first)).toBe('undo/may.csv-undo/u1.csv');
    expect(reportPrefixFor(undoInputKeyFor(first)!, 'u2')).toBe('reports/may.csv-undo-undo/u2/');
  });
});

describe("a run's report prefix, as an undo payload names it", () => {
  it('reports/<file>/<run>/ (the trailing slash optional) → its file and run; anything else → undefined', () => {
    expect(runOfReportPrefix('reports/may.csv/r0/')).toEqual({ prefix: 'reports/may.csv/r0/', name: 'may.csv', run: 'r0' });
    expect(runOfReportPrefix('reports/2024/may.csv/r0')).toEqual({ prefix: 'reports/2024/may.csv/r0/', name: '2024/may.csv', run: 'r0' });
    for (const bad of [
      '',
      'reports/',
      'reports/r0/',
      'incoming/a.csv/r0/',
      'reports//r0/',
      'reports/a.csv//',
      'reports/../x/r0/',
      '/reports/a/r0/',
    ])
      expect([bad, runOfReportPrefix(bad)]).toEqual([bad, undefined]);
    expect(undoInputKeyFor('reports/r0/')).toBeUndefined();
  });
});
