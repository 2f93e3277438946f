import type { SendStats } from '../types.ts';

/**
 * The run's small time series for report.html's chart: per time slot (a minute, widened as a run goes on) the
 * rows done, requests, time spent waiting for the portal's limits and limit errors. Kept in the checkpoint as
 * running totals at each slot's end, so chunks (fresh Lambdas) add to it; at most MAX_POINTS points: when a
 * run outlasts them, neighbouring slots merge and the slot doubles, so a days-long run stays a few KB.
 */

/** One slot's running totals at its end. */
export interface SeriesTotals {
  /** Slot start, minutes since the run started. */
  minute: number;
  rows: number;
  requests: number;
  waitMs: number;
  limitErrors: number;
}

export interface RunSeries {
  /** Minutes per slot (1, 2, 4…). */
  slot: number;
  points: SeriesTotals[];
}

export const MAX_POINTS = 360;

/** Records the run's totals at `now` (epoch ms) in the slot it falls in. Pure: a new series. */
export function recordPoint(series: RunSeries | undefined, startedAt: number, now: number, rows: number, stats: SendStats): RunSeries {
  let s: RunSeries = series ? { slot: series.slot, points: [...series.points] } : { slot: 1, points: [] };
  const minutes = Math.max(0, Math.floor((now - startedAt) / 60_000));
  const minute = minutes - (minutes % s.slot);
  const limitErrors = Object.values(stats.limitErrors).reduce((a, b) => a + b, 0);
  const point = { minute, rows, requests: stats.requests, waitMs: stats.throttledMs, limitErrors };
  const last = s.points.at(-1);
  if (last && last.minute === minute) s.points[s.points.length - 1] = point;
  else s.points.push(point);
  while (s.points.length > MAX_POINTS) s = widen(s);
  return s;
}

/** Twice the slot: each pair of slots keeps the later one's totals. */
function widen(s: RunSeries): RunSeries {
  const slot = s.slot * 2;
  const points: SeriesTotals[] = [];
  for (const p of s.points) {
    const minute = p.minute - (p.minute % slot);
    const last = points.at(-1);
    if (last && last.minute === minute) points[points.length - 1] = { ...p, minute };
    else points.push({ ...p, minute });
  }
  return { slot, points };
}

/** The totals as per-slot amounts (what the chart draws): rows done in each slot, and so on. */
export function seriesDeltas(series: RunSeries | undefined): SeriesTotals[] {
  if (!series) return [];
  let prev: SeriesTotals = { minute: 0, rows: 0, requests: 0, waitMs: 0, limitErrors: 0 };
  return series.points.map((p) => {
    const d = {
      minute: p.minute,
      rows: p.rows - prev.rows,
      requests: p.requests - prev.requests,
      waitMs: p.waitMs - prev.waitMs,
      limitErrors: p.limitErrors - prev.limitErrors,
    };
    prev = p;
    return d;
  });
}
