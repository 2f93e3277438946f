import { describe, expect, it } from 'vitest';
import { MAX_POINTS, recordPoint, seriesDeltas } from '../../lambda/run/series.ts';
import type { SendStats } from '../../lambda/types.ts';

const stats = (requests: number, throttledMs = 0, limit = 0): SendStats => ({
  requests,
  retries: 0,
  throttledMs,
  limitErrors: limit ? { OPERATION_TIME_LIMIT: limit } : {},
});
const T0 = Date.parse('2026-12-01T10:00:00Z');

describe('the run time series', () => {
  it('keeps running totals per minute and gives per-minute amounts', () => {
    let s = recordPoint(undefined, T0, T0 + 10_000, 100, stats(2));
    s = recordPoint(s, T0, T0 + 50_000, 250, stats(5, 1000));
    s = recordPoint(s, T0, T0 + 70_000, 400, stats(8, 1500, 1));
    expect(seriesDeltas(s)).toEqual([
      { minute: 0, rows: 250, requests: 5, waitMs: 1000, limitErrors: 0 },
      { minute: 1, rows: 150, requests: 3, waitMs: 500, limitErrors: 1 },
    ]);
  });

  it('a days-long run stays small: slots widen, the totals stay right', () => {
    let s = undefined as ReturnType<typeof recordPoint> | undefined;
    for (let m = 0; m < 3 * 24 * 60; m++) s = recordPoint(s, T0, T0 + m * 60_000 + 1, (m + 1) * 10, stats(m + 1));
    expect(s!.points.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(s!.slot).toBeGreaterThan(1);
    const d = seriesDeltas(s);
    expect(d.reduce((a, p) => a + p.rows, 0)).toBe(3 * 24 * 60 * 10);
    expect(JSON.stringify(s).length).toBeLessThan(40_000);
  });
});
