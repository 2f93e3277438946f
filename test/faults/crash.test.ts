/**
 * A worker killed at random points, through the real flow (s3rver + handlers + the local state machine, which
 * retries a crashed chunk from its input checkpoint as Step Functions does): before a batch is sent, after it
 * was sent but before its outcomes were recorded, and while a report part is being written. The end state
 * must equal an uninterrupted run's: one report line per row, every lead as the file asks, one write per lead.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import type { RunOptions } from '../../lambda/config.ts';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { startLocalS3, type LocalS3 } from '../../harness/localS3.ts';
import { mulberry32 } from '../../harness/sandbox/faults.ts';
import { startSandbox } from '../../harness/sandbox/portal.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import type { LeadSender, RowOutcome } from '../../lambda/types.ts';
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
const ROWS = 12_000;
const LIMITS = { rate: 50, burst: 50, operatingWindow: 10 };

type KillPoint = 'before-send' | 'after-send' | 'part-write';

/** What Lambda reports when the process dies: one of the errors the workflow retries. */
function killed(): Error {
  const err = new Error('worker killed');
  err.name = 'Runtime.ExitError';
  return err;
}

/** Two distinct call numbers in [from, to], drawn from a seeded PRNG (printed on failure via the test name). */
function pick(seed: number, from: number, to: number): Set<number> {
  const r = mulberry32(seed);
  const out = new Set<number>();
  while (out.size < 2) out.add(from + Math.floor(r() * (to - from + 1)));
  return out;
}

describe('fault suite: worker killed at random points, resumed from the checkpoint', () => {
  let dir: string;
  let s3: LocalS3;
  let store: S3Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faults-crash-'));
    s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
    store = new S3Store(s3.client, BUCKET);
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[KillPoint, number]> = [
    ['before-send', 101],
    ['after-send', 202],
    ['part-write', 303],
  ];

  it.each(cases)(
    'killed %s (seed %i): same end state as an uninterrupted run',
    async (point, seed) => {
      const t0 = Date.now();
      const sb = await startSandbox({ ...LIMITS, seed });
      try {
        const file = seedFile(sb, ROWS, `k${seed}`);
        const key = `incoming/crash-${point}.csv`;
        await store.write(key, file.csv);

        // Kill points: the 2nd–6th send (5 windows of 2,500 rows per invocation), or the 1st–3rd report part written.
        const at = point === 'part-write' ? pick(seed, 1, 3) : pick(seed, 2, 6);
        let sends = 0;
        let partWrites = 0;
        let kills = 0;
        /** Lines the portal updated in the current invocation (lost if it dies) / in invocations that died. */
        let attempt = new Set<number>();
        const lostLines = new Set<number>();
        const die = (): Error => {
          kills++;
          for (const l of attempt) lostLines.add(l);
          return killed();
        };

        const portal = async (url: string, options: RunOptions) => {
          const session = await openPortal(url, options, { timeoutMs: 5000, backoffMs: 20 });
          attempt = new Set(); // a new invocation: Lambda opens its session per chunk
          const sender: LeadSender = {
            stats: () => session.sender.stats(),
            // The engine's hooks (its applied journal) go through to the real sender, as in the deployed worker.
            send: async (rows, deadline, ...hooks: unknown[]) => {
              const n = ++sends;
              if (point === 'before-send' && at.has(n)) throw die();
              const out = await (session.sender.send as (...a: unknown[]) => Promise<RowOutcome[]>).call(
                session.sender,
                rows,
                deadline,
                ...hooks,
              );
              for (const o of out) if (o.status === 'updated') attempt.add(o.line);
              if (point === 'after-send' && at.has(n)) throw die();
              return out;
            },
          };
          return { ...session, sender };
        };
        const wrapStore = (inner: ObjectStore, step: string): ObjectStore => {
          if (step !== 'chunk' || point !== 'part-write') return inner;
          return Object.assign(Object.create(inner) as ObjectStore, {
            write: async (k: string, body: string | Uint8Array | Readable, type?: string) => {
              if (
                k.startsWith('parts/') &&
                k.endsWith('.report.csv') &&
                at.has(++partWrites) &&
                typeof body === 'object' &&
                'read' in body
              ) {
                // Dies with the part half taken: the first bytes read, the object never completed.
                await once(body, 'readable');
                body.read();
                // The engine then destroys the stream with its error; S3's uploader would be listening, a dead one is not.
                body.on('error', () => {});
                throw die();
              }
              return inner.write(k, body, type);
            },
          });
        };

        // The clock is compressed: 1.5 s chunks against a 10 s operating window, where Lambda has 13-minute chunks
        // against 10 minutes. The idle-chunk guard is scaled the same way (12 × 13 min ≈ 100 × 1.5 s), so chunks
        // that end while the portal's operating block lasts are not mistaken for a stalled run.
        const flow = createLocalFlow({
          client: s3.client,
          webhookUrl: sb.webhookUrl,
          env: {
            LOG_LEVEL: 'SILENT',
            PORTAL_RATE: '50',
            PORTAL_BURST: '50',
            OPERATING_WINDOW: '10',
            CHUNK_BUDGET_MS: '1500',
            CHUNK_MARGIN_MS: '1',
            MAX_IDLE_CHUNKS: '100',
          },
          portal,
          wrapStore,
        });
        const { runs } = await flow.start({ bucket: BUCKET, key });
        const execution = flow.stateMachine.executions.get(runs[0].executionName!)!;
        const summary = await execution.result;

        expect(kills).toBe(2);
        expect(execution.error).toBeUndefined();
        expect(summary.complete).toBe(true);
        const reportText = await readText(store, summary.report.report);
        const report = parseReport(reportText);
        // Rows the dead worker wrote are on its applied journal: the retry reports them `updated` without a send.
        expect(reportMismatches(report, file, ['updated'])).toEqual([]);
        const status = new Map(report.map((l) => [l.line, l.status]));
        expect([...lostLines].filter((l) => status.get(l) !== 'updated')).toEqual([]);
        if (point === 'after-send') expect(lostLines.size).toBeGreaterThan(0);
        expect(leadMismatches(sb, file)).toEqual([]);
        expect(duplicates(sb)).toEqual([]);
        const per = writesPerLead(sb);
        expect(per.size).toBe(file.rows.filter((r) => r.kind === 'update').length);
        expect([...per.entries()].filter(([, n]) => n !== 1)).toEqual([]);
        const { counts, errorCodes } = countsOf(report);
        expect(summary.rows).toBe(ROWS);
        expect(summary.counts).toEqual(counts);
        expect(summary.errorCodes).toEqual(errorCodes);
        // The dead invocations' parts were overwritten or ignored, then removed.
        expect(await store.list(`parts/${runs[0].runId}/`)).toEqual([]);
        const outputs = {
          report: reportText,
          rejected: await readText(store, summary.report.rejected),
          summary: await readText(store, summary.report.summary),
          input: JSON.stringify(execution.input),
        };
        expect(leaks(outputs, secretsOf(sb.webhookUrl))).toEqual([]);
        console.log(
          JSON.stringify({
            scenario: `killed ${point}`,
            seed,
            rows: ROWS,
            lines: report.length,
            kills,
            invocations: execution.invocations,
            lostLines: lostLines.size,
            counts,
            duplicates: 0,
            leaks: 0,
            wallMs: Date.now() - t0,
          }),
        );
      } finally {
        await sb.close();
      }
    },
    120_000,
  );
});
