/**
 * Each row written at most once and reported exactly once, through the real flow (s3rver + the handlers + the
 * local state machine) against the sandbox portal and its ledger: a chunk deadline that defers a row while later
 * rows of its window were applied, a report part whose upload fails once (the chunk is retried from its input
 * checkpoint), a worker killed after a send, with `--no-diff` (appends travel blind) and with the diff on.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow, type LocalFlowOptions } from '../../harness/flow/localFlow.ts';
import { type LocalS3, startLocalS3 } from '../../harness/localS3.ts';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import type { RunOptions } from '../../lambda/config.ts';
import type { Summary } from '../../lambda/run/state.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import { DEFERRED, type LeadSender, type RowOutcome, type ValidRow } from '../../lambda/types.ts';
import { parseReport, readText, writesPerLead } from '../support/faults.ts';

const BUCKET = 'leads';
const ROWS = 300;
const LIMITS = { rate: 200, burst: 200 };

/** Leads without phones; each row gives its lead a TITLE and one work phone (blind, that is an append). */
function seed(sb: Sandbox, tag: string): { csv: string; ids: number[] } {
  const ids = sb.seedLeads(Array.from({ length: ROWS }, (_, i) => ({ TITLE: `old ${tag} ${i}` })));
  const lines = ['ID,TITLE,PHONE_WORK', ...ids.map((id, i) => `${id},${tag} ${i},+7900${String(1_000_000 + i)}`)];
  return { csv: `${lines.join('\n')}\n`, ids };
}

function killed(): Error {
  const err = new Error('worker killed');
  err.name = 'Runtime.ExitError';
  return err;
}

type SendFn = (rows: ValidRow[], deadline: number, ...rest: unknown[]) => Promise<RowOutcome[]>;

/** The flow's portal seam with a wrapped `send` (the wrapper forwards any extra arguments to the real sender). */
function wrapPortal(wrap: (inner: SendFn) => SendFn): NonNullable<LocalFlowOptions['portal']> {
  return async (url: string, options: RunOptions) => {
    const session = await openPortal(url, options, { timeoutMs: 5000, backoffMs: 20 });
    const inner: SendFn = (rows, deadline, ...rest) => (session.sender.send as SendFn).call(session.sender, rows, deadline, ...rest);
    const send = wrap(inner);
    const sender: LeadSender = {
      stats: () => session.sender.stats(),
      send: (rows, deadline, ...rest: unknown[]) => send(rows, deadline, ...rest),
    };
    return { ...session, sender };
  };
}

/** The first report part upload dies once, half taken (as a worker killed while writing it). */
function failFirstPart(counter: { kills: number }): LocalFlowOptions['wrapStore'] {
  return (inner: ObjectStore, step) => {
    if (step !== 'chunk') return inner;
    return Object.assign(Object.create(inner) as ObjectStore, {
      write: async (k: string, body: string | Uint8Array | Readable, type?: string) => {
        if (counter.kills === 0 && k.endsWith('.report.csv') && typeof body === 'object' && 'read' in body) {
          counter.kills++;
          await once(body, 'readable');
          body.read();
          body.on('error', () => {});
          throw killed();
        }
        return inner.write(k, body, type);
      },
    });
  };
}

describe('exactly once: every row written at most once, reported exactly once', () => {
  let dir: string;
  let s3: LocalS3;
  let store: S3Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exactly-once-'));
    s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
    store = new S3Store(s3.client, BUCKET);
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runFlow(
    sb: Sandbox,
    name: string,
    csv: string,
    opts: { diff: boolean; extra?: Partial<LocalFlowOptions> },
  ): Promise<{ summary: Summary; report: ReturnType<typeof parseReport>; runId: string }> {
    const key = `incoming/${name}.csv`;
    await store.write(key, csv);
    const flow = createLocalFlow({
      client: s3.client,
      webhookUrl: sb.webhookUrl,
      env: { LOG_LEVEL: 'SILENT', PORTAL_RATE: String(LIMITS.rate), PORTAL_BURST: String(LIMITS.burst), MAX_IDLE_CHUNKS: '50' },
      ...opts.extra,
    });
    const { runs } = await flow.start({ bucket: BUCKET, key, options: { diff: opts.diff } });
    const summary = await flow.summaryOf(runs[0].executionName!);
    const report = parseReport(await readText(store, summary.report.report));
    return { summary, report, runId: runs[0].runId! };
  }

  /** One report line per row in order, all `updated`; the ledger has one write per lead; no phone twice. */
  function expectOnce(sb: Sandbox, ids: number[], report: ReturnType<typeof parseReport>, summary: Summary): void {
    expect(report.map((l) => l.line)).toEqual(ids.map((_, i) => i + 2));
    expect(report.filter((l) => l.status !== 'updated')).toEqual([]);
    expect(summary.rows).toBe(ROWS);
    expect(summary.counts).toMatchObject({ updated: ROWS });
    const per = writesPerLead(sb);
    expect([...per.values()].filter((n) => n !== 1)).toEqual([]);
    expect(per.size).toBe(ROWS);
    const twice = ids.filter((id) => (sb.lead(id)?.PHONE ?? []).length !== 1);
    expect(twice).toEqual([]);
  }

  for (const diff of [false, true]) {
    const mode = diff ? 'diff' : '--no-diff';

    it(`${mode}: a deadline defers a row while later rows of its window were applied: those are not sent again`, async () => {
      const sb = await startSandbox(LIMITS);
      try {
        const { csv, ids } = seed(sb, `dl${diff}`);
        let calls = 0;
        // The first window: row 10 could not start before the deadline (it backed off) while the rest went out.
        const portal = wrapPortal((inner) => async (rows, deadline, ...rest) => {
          if (++calls > 1 || rows.length < 20) return inner(rows, deadline, ...rest);
          const held = rows[10];
          const out = await inner([...rows.slice(0, 10), ...rows.slice(11)], deadline, ...rest);
          const deferred: RowOutcome = {
            line: held.line,
            id: String(held.id),
            status: 'skipped',
            errorCode: DEFERRED,
            message: 'not started before the chunk deadline',
            attempts: 0,
          };
          return [...out.slice(0, 10), deferred, ...out.slice(10)];
        });
        const { summary, report } = await runFlow(sb, `deadline-${mode}`, csv, { diff, extra: { portal } });
        expectOnce(sb, ids, report, summary);
      } finally {
        await sb.close();
      }
    }, 60_000);

    it(`${mode}: a report part upload that fails once: the retried chunk sends nothing again, rows stay updated`, async () => {
      const sb = await startSandbox(LIMITS);
      try {
        const { csv, ids } = seed(sb, `pw${diff}`);
        const counter = { kills: 0 };
        const { summary, report } = await runFlow(sb, `part-${mode}`, csv, { diff, extra: { wrapStore: failFirstPart(counter) } });
        expect(counter.kills).toBe(1);
        expectOnce(sb, ids, report, summary);
      } finally {
        await sb.close();
      }
    }, 60_000);

    it(`${mode}: a worker killed after its send returned: the retry reports the rows updated and sends nothing again`, async () => {
      const sb = await startSandbox(LIMITS);
      try {
        const { csv, ids } = seed(sb, `ka${diff}`);
        let kills = 0;
        const portal = wrapPortal((inner) => async (rows, deadline, ...rest) => {
          const out = await inner(rows, deadline, ...rest);
          if (kills++ === 0) throw killed();
          return out;
        });
        const { summary, report } = await runFlow(sb, `kill-${mode}`, csv, { diff, extra: { portal } });
        // The retry found every row on record: it had nothing left to send.
        expect(kills).toBe(1);
        expectOnce(sb, ids, report, summary);
      } finally {
        await sb.close();
      }
    }, 60_000);

    it(`${mode}: a worker killed while its first write batch was answered (answer never recorded): no row sent twice`, async () => {
      const sb = await startSandbox(LIMITS);
      try {
        const { csv, ids } = seed(sb, `kw${diff}`);
        let killedOnce = false;
        const portal: NonNullable<LocalFlowOptions['portal']> = async (url, options) => {
          let die: (e: Error) => void = () => {};
          const death = new Promise<never>((_, reject) => {
            die = reject;
          });
          death.catch(() => {});
          let dead = false;
          // The portal applies the batch; the worker dies before it reads the answer (and never runs again).
          const dying: typeof fetch = async (input, init) => {
            if (dead) return new Promise<Response>(() => {});
            const res = await fetch(input, init);
            if (!killedOnce && String(input).endsWith('/batch.json') && String(init?.body).includes('crm.lead.update')) {
              killedOnce = dead = true;
              die(killed());
              return new Promise<Response>(() => {});
            }
            return res;
          };
          const session = await openPortal(url, options, { timeoutMs: 5000, backoffMs: 20, fetch: dying });
          const sender: LeadSender = {
            stats: () => session.sender.stats(),
            send: (rows, deadline, ...rest: unknown[]) =>
              Promise.race([(session.sender.send as SendFn).call(session.sender, rows, deadline, ...rest), death]),
          };
          return { ...session, sender };
        };
        const { summary, report } = await runFlow(sb, `killwrite-${mode}`, csv, { diff, extra: { portal } });
        expect(killedOnce).toBe(true);
        expect(report.map((l) => l.line)).toEqual(ids.map((_, i) => i + 2));
        expect(summary.rows).toBe(ROWS);
        const per = writesPerLead(sb);
        expect([...per.values()].filter((n) => n !== 1)).toEqual([]);
        expect(ids.filter((id) => (sb.lead(id)?.PHONE ?? []).length > 1)).toEqual([]);
        const ambiguous = report.filter((l) => l.status !== 'updated');
        if (diff) {
          // The re-read finds the lead as the row asks: the dead worker's write, reported `updated`.
          expect(ambiguous).toEqual([]);
          expect(per.size).toBe(ROWS);
        } else {
          // Blind appends the dead worker had sent (batches in flight: at most concurrency × 50) are reported,
          // not sent again; the one it saw applied among them. Every other row is written once, by the retry.
          expect(ambiguous.length).toBeGreaterThanOrEqual(50);
          expect(ambiguous.length).toBeLessThanOrEqual(4 * 50);
          expect(ambiguous.every((l) => l.status === 'failed' && l.errorCode === 'AMBIGUOUS_WRITE')).toBe(true);
          const updatedIds = report.filter((l) => l.status === 'updated').map((l) => Number(l.id));
          expect(updatedIds.filter((id) => per.get(id) !== 1)).toEqual([]);
          expect(per.size).toBeGreaterThanOrEqual(updatedIds.length + 50);
        }
      } finally {
        await sb.close();
      }
    }, 60_000);
  }
});
