import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIMENSION, METRIC } from '../../lambda/aws/metricNames.ts';
import type { Summary } from '../../lambda/run/state.ts';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'emfRun.ts');

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
  };
  [key: string]: unknown;
}

/** Every value of a metric across the EMF lines, with the value of `dimension` on its line. */
function values(lines: EmfLine[], name: string, dimension?: string): Array<{ value: number; dim?: string; runId: unknown }> {
  return lines.flatMap((l) =>
    l._aws.CloudWatchMetrics.flatMap((d) =>
      d.Metrics.filter((m) => m.Name === name).flatMap((): Array<{ value: number; dim?: string; runId: unknown }> => {
        const v = l[name];
        const dim = dimension ? (l[dimension] as string) : undefined;
        return (Array.isArray(v) ? v : [v]).map((value) => ({ value: Number(value), ...(dim ? { dim } : {}), runId: l.runId }));
      }),
    ),
  );
}

function sumBy(points: Array<{ value: number; dim?: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) out[p.dim!] = (out[p.dim!] ?? 0) + p.value;
  return out;
}

describe('metrics (EMF) of a run through the handlers, read back from stdout', () => {
  let emf: EmfLine[];
  let summary: Summary;
  let chunks: number;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emf-'));
    try {
      const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', TSX, SCRIPT, dir], { env, maxBuffer: 64 << 20 });
      const lines = stdout.trim().split('\n');
      summary = JSON.parse(lines.find((l) => l.startsWith('SUMMARY '))!.slice(8)) as Summary;
      chunks = Number(lines.find((l) => l.startsWith('CHUNKS '))!.slice(7));
      emf = lines.filter((l) => l.startsWith('{') && l.includes('"_aws"')).map((l) => JSON.parse(l) as EmfLine);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the run was a real one: several chunks, failed and updated rows, limit errors, throttle waits', () => {
    expect(chunks).toBeGreaterThan(1);
    expect(summary.counts.updated).toBeGreaterThan(0);
    expect(summary.counts.failed).toBeGreaterThan(0);
    expect(Object.keys(summary.limitErrors).length).toBeGreaterThan(0);
    expect(summary.throttledMs).toBeGreaterThan(0);
  });

  it('every line is in the stack-named namespace with the service dimension and the runId property', () => {
    expect(emf.length).toBeGreaterThan(chunks);
    for (const l of emf) {
      for (const d of l._aws.CloudWatchMetrics) {
        expect(d.Namespace).toBe('B24LeadImportTest');
        expect(d.Dimensions[0]).toContain(DIMENSION.service);
      }
      expect(l.service).toBe('b24-lead-import');
      expect(l.runId).toBe(summary.runId);
    }
  });

  it('rows by status, limit errors by code, requests and throttle seconds add up to summary.json', () => {
    const rows = sumBy(values(emf, METRIC.rows, DIMENSION.status));
    expect(rows).toEqual(Object.fromEntries(Object.entries(summary.counts).filter(([, n]) => (n ?? 0) > 0)));
    expect(sumBy(values(emf, METRIC.limitErrors, DIMENSION.code))).toEqual(summary.limitErrors);
    const sum = (name: string) => values(emf, name).reduce((a, p) => a + p.value, 0);
    expect(sum(METRIC.requests)).toBe(summary.requests);
    expect(sum(METRIC.throttleWait)).toBeCloseTo(summary.throttledMs / 1000, 6);
    // One per chunk that finished rows: each chunk's own rate, all positive.
    const rates = values(emf, METRIC.rowsPerSecond);
    expect(rates.length).toBeGreaterThan(0);
    expect(rates.length).toBeLessThanOrEqual(chunks);
    for (const r of rates) expect(r.value).toBeGreaterThan(0);
  });

  it('finalize publishes the run’s failed-row share once, in percent', () => {
    const share = values(emf, METRIC.failedRowShare);
    expect(share).toHaveLength(1);
    expect(share[0].value).toBeCloseTo((100 * (summary.counts.failed ?? 0)) / summary.rows, 9);
    const units = emf.flatMap((l) => l._aws.CloudWatchMetrics.flatMap((d) => d.Metrics));
    expect(units.find((m) => m.Name === METRIC.failedRowShare)?.Unit).toBe('Percent');
    expect(units.find((m) => m.Name === METRIC.throttleWait)?.Unit).toBe('Seconds');
  });
});
