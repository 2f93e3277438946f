/**
 * 10,000 rows through the real flow (s3rver + start/chunk/finalize handlers + the local state machine) into a
 * sandbox portal that misbehaves in every way we know of at once. Limits are compressed (50 req/s, burst 50,
 * a 10 s operating window) and the client gets a short timeout, so the whole run takes seconds, not hours.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lambda/aws/log.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { startLocalS3, type LocalS3 } from '../../harness/localS3.ts';
import { startSandbox } from '../../harness/sandbox/portal.ts';
import type { RunState } from '../../lambda/run/state.ts';
import {
  countsOf,
  duplicates,
  leadMismatches,
  leaks,
  parseReport,
  readText,
  reportMismatches,
  secretsOf,
  seedFile,
  writesPerLead,
} from '../support/faults.ts';

const BUCKET = 'leads';
const ROWS = 10_000;

/** Every file under a folder, as text (s3rver keeps objects and their metadata there). */
async function allFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name)] = await readFile(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

/** Another app on the portal, bursting at given write counts (1 s at 100 requests/s each). */
class Neighbour {
  bursts = 0;
  /** 503s the neighbour itself received (the rest of the portal's 503s went to the import). */
  private refusedOwn = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly pending: Promise<unknown>[] = [];
  private until = 0;
  private hardUntil = 0;
  private importRefusedAtStart = 0;

  /**
   * A burst lasts at least a second, and goes on (up to 10 s) until the import itself has been refused once
   * during it: whether the import is sending at that moment depends on timing, the 503 it must get does not.
   */
  constructor(webhookUrl: string, writes: () => number, refusedTotal: () => number, at: number[]) {
    const left = [...at];
    const importRefused = () => refusedTotal() - this.refusedOwn;
    this.timer = setInterval(() => {
      if (left.length > 0 && writes() >= left[0]) {
        left.shift();
        this.bursts++;
        this.until = Date.now() + 1000;
        this.hardUntil = Date.now() + 10_000;
        this.importRefusedAtStart = importRefused();
      }
      const now = Date.now();
      if (now < this.until || (now < this.hardUntil && importRefused() === this.importRefusedAtStart)) {
        for (let i = 0; i < 10; i++) {
          this.pending.push(
            fetch(`${webhookUrl}crm.status.list.json`, { method: 'POST' }).then(
              (r) => {
                if (r.status === 503) this.refusedOwn++;
                return r.text();
              },
              () => '',
            ),
          );
        }
      }
    }, 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
  }
}

describe('fault suite: 10,000 rows under mixed faults, local S3 flow', () => {
  let dir: string;
  let s3: LocalS3;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faults-mixed-'));
    s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every row gets one report line, every lead its intended state, no duplicate, counts = report, no leak', async () => {
    const t0 = Date.now();
    // The portal: 50 req/s, burst 50, and a per-10 s operating budget the run WILL cross (billed to the batch
    // envelope, so the refusal is a whole-request HTTP 429 OPERATION_TIME_LIMIT). Plus seeded faults.
    const sb = await startSandbox({
      rate: 50,
      burst: 50,
      operatingLimit: 10,
      operatingWindow: 10,
      batchBilling: 'envelope',
      costs: { 'crm.lead.update': 0.002, 'crm.lead.list': 0.002 },
      seed: 20240517,
      faults: { internalError: 0.05, resetAfterApply: 0.02, badGateway: 0.01, slow: 0.01, slowMs: 2500 },
    });
    const clientLog: string[] = [];
    const handlerLog: string[] = [];
    const states: RunState[] = [];
    try {
      const file = seedFile(sb, ROWS, 'mx');
      const store = new S3Store(s3.client, BUCKET);
      await store.write('incoming/mixed.csv', file.csv);
      const flow = createLocalFlow({
        client: s3.client,
        webhookUrl: sb.webhookUrl,
        // The client is told the real rate but not the operating budget (it thinks it is far away): it runs
        // into periods of 429s, and into bursts of 503 QUERY_LIMIT_EXCEEDED when the neighbour fills the bucket.
        env: {
          LOG_LEVEL: 'DEBUG',
          PORTAL_RATE: '50',
          PORTAL_BURST: '50',
          OPERATING_LIMIT: '1000',
          OPERATING_WINDOW: '10',
          CHUNK_BUDGET_MS: '4000',
          CHUNK_MARGIN_MS: '1',
        },
        log: createLogger({ service: 'faults', level: 'DEBUG', write: (l) => void handlerLog.push(l) }),
        // Short client timeout: a slow answer (2.5 s) is a timeout, the write applied but unconfirmed (the sender
        // waits as long again before re-reading, so a late write cannot be planned twice).
        portal: (url, options) => openPortal(url, options, { timeoutMs: 1500, backoffMs: 20, log: (l) => void clientLog.push(l) }),
        onChunk: (state) => void states.push(state),
      });
      // A neighbouring app on the same portal: when the import has written 2,000 and 6,000 leads, it fires
      // 100 requests/s for a second (twice the portal's rate), so the bucket is full and the import gets 503s.
      const neighbour = new Neighbour(
        sb.webhookUrl,
        () => sb.stats().writes,
        () => sb.stats().refusals.QUERY_LIMIT_EXCEEDED ?? 0,
        [2000, 6000],
      );
      const { runs } = await flow.start({ bucket: BUCKET, key: 'incoming/mixed.csv' });
      const execution = flow.stateMachine.executions.get(runs[0].executionName!)!;
      const summary = await execution.result;
      await neighbour.stop();
      expect(neighbour.bursts).toBe(2);
      const wallMs = Date.now() - t0;

      expect(execution.error).toBeUndefined();
      const stats = sb.stats();
      // Every fault kind really happened.
      expect(stats.faults.internalError ?? 0).toBeGreaterThan(0);
      expect(stats.faults.resetAfterApply ?? 0).toBeGreaterThan(0);
      expect(stats.faults.badGateway ?? 0).toBeGreaterThan(0);
      expect(stats.faults.slow ?? 0).toBeGreaterThan(0);
      expect(stats.refusals.OPERATION_TIME_LIMIT ?? 0).toBeGreaterThan(0);
      expect(states.length).toBeGreaterThan(1);

      const reportText = await readText(store, summary.report.report);
      const report = parseReport(reportText);
      // `unchanged` is allowed for a row this run wrote: when a chunk's deadline defers a row waiting for a retry,
      // later rows of its window that were written are read again by the next chunk (the checkpoint is a byte
      // offset) and the diff finds them done. The ledger check below proves one write per lead.
      expect(reportMismatches(report, file, ['updated', 'unchanged'])).toEqual([]);
      expect(leadMismatches(sb, file)).toEqual([]);
      expect(duplicates(sb)).toEqual([]);
      // Each row's lead was written exactly once (a reset or timeout applies a write whose answer is lost; the
      // diff re-read then finds it done: never a second send).
      const per = writesPerLead(sb);
      const updates = file.rows.filter((r) => r.kind === 'update').length;
      expect(per.size).toBe(updates);
      expect([...per.entries()].filter(([, n]) => n > 1)).toEqual([]);
      const { counts, errorCodes } = countsOf(report);
      expect(summary.rows).toBe(ROWS);
      expect(summary.counts).toEqual(counts);
      expect(summary.errorCodes).toEqual(errorCodes);
      expect(summary.complete).toBe(true);
      expect(summary.limitErrors.QUERY_LIMIT_EXCEEDED ?? 0).toBeGreaterThan(0);

      const outputs: Record<string, string> = {
        report: reportText,
        rejected: await readText(store, summary.report.rejected),
        summary: await readText(store, summary.report.summary),
        handlerLog: handlerLog.join('\n'),
        clientLog: clientLog.join('\n'),
        states: JSON.stringify(states),
        ...(await allFiles(dir)),
      };
      expect(leaks(outputs, secretsOf(sb.webhookUrl))).toEqual([]);
      expect(clientLog.length).toBeGreaterThan(0); // the scan looked at something

      const dupWrites = [...per.values()].filter((n) => n > 1).length;
      console.log(
        JSON.stringify({
          scenario: 'mixed 10k',
          rows: ROWS,
          lines: report.length,
          counts,
          leadsWrittenTwice: dupWrites,
          duplicates: 0,
          leaks: 0,
          faults: stats.faults,
          refusals: stats.refusals,
          requests: stats.requests,
          chunks: states.length,
          wallMs,
        }),
      );
    } finally {
      await sb.close();
    }
  }, 180_000);
});
