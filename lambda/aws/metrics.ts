import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Checkpoint, Summary } from '../run/state.ts';
import { DIMENSION, METRIC } from './metricNames.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** One value to publish; `dimension` splits the metric (rows by status, limit errors by code). */
export interface MetricPoint {
  name: string;
  unit: Unit;
  value: number;
  dimension?: { name: string; value: string };
}

/** Where metrics go: EMF on stdout in Lambda (CloudWatch extracts them from the log), nowhere locally. */
export type MetricsSink = (points: MetricPoint[], metadata: Record<string, string>) => void;

/** What one chunk did, from the checkpoints before and after it (their counters are cumulative over the run). */
export function chunkMetrics(before: Checkpoint, after: Checkpoint): MetricPoint[] {
  const points: MetricPoint[] = [];
  // Statuses from the checkpoint itself: lines.ts (STATUSES) would pull the report code into the start bundle.
  for (const [status, total] of Object.entries(after.counts)) {
    const n = (total ?? 0) - (before.counts[status as keyof Checkpoint['counts']] ?? 0);
    if (n > 0) points.push({ name: METRIC.rows, unit: MetricUnit.Count, value: n, dimension: { name: DIMENSION.status, value: status } });
  }
  for (const [code, total] of Object.entries(after.stats.limitErrors)) {
    const n = total - (before.stats.limitErrors[code] ?? 0);
    if (n > 0)
      points.push({ name: METRIC.limitErrors, unit: MetricUnit.Count, value: n, dimension: { name: DIMENSION.code, value: code } });
  }
  const rows = after.rows - before.rows;
  const seconds = (after.activeMs - before.activeMs) / 1000;
  points.push(
    { name: METRIC.requests, unit: MetricUnit.Count, value: after.stats.requests - before.stats.requests },
    { name: METRIC.throttleWait, unit: MetricUnit.Seconds, value: (after.stats.throttledMs - before.stats.throttledMs) / 1000 },
  );
  if (rows > 0 && seconds > 0) points.push({ name: METRIC.rowsPerSecond, unit: MetricUnit.CountPerSecond, value: rows / seconds });
  return points;
}

/** Per run (finalize): the share of failed rows the stack's alarm watches; none for a run of no rows. */
export function runMetrics(summary: Summary): MetricPoint[] {
  if (summary.rows === 0) return [];
  const failed = summary.counts.failed ?? 0;
  return [{ name: METRIC.failedRowShare, unit: MetricUnit.Percent, value: (100 * failed) / summary.rows }];
}

/**
 * Powertools Metrics (EMF): undimensioned points in one blob, each dimensioned one in its own (a dimension
 * applies to a whole blob). `metadata` (runId) rides along as a property: searchable in the log, no cost.
 */
export function emfSink(options: { namespace: string; service: string }): MetricsSink {
  const metrics = new Metrics({ namespace: options.namespace, serviceName: options.service });
  return (points, metadata) => {
    let stored = 0;
    for (const p of points) {
      if (p.dimension) {
        const single = metrics.singleMetric();
        for (const [k, v] of Object.entries(metadata)) single.addMetadata(k, v);
        single.addDimension(p.dimension.name, p.dimension.value);
        single.addMetric(p.name, p.unit, p.value);
      } else {
        metrics.addMetric(p.name, p.unit, p.value);
        stored++;
      }
    }
    if (stored === 0) return;
    for (const [k, v] of Object.entries(metadata)) metrics.addMetadata(k, v);
    metrics.publishStoredMetrics();
  };
}
