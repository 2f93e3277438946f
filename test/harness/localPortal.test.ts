import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import type { RunOptions } from '../../lambda/config.ts';
import { createLocalFlow, type LocalFlowOptions } from '../../harness/flow/localFlow.ts';
import { startLocalS3, type LocalS3 } from '../../harness/localS3.ts';
import { randomLeads, startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import type { Summary } from '../../lambda/run/state.ts';
import { rowOutcome } from '../../lambda/report/outcome.ts';
import { DEFERRED, type RowOutcome, type ValidRow } from '../../lambda/types.ts';

const BUCKET = 'leads';
const ROWS = 5000;
// A fast portal so 5,000 rows take seconds (cheap commands keep the operating budget out of play);
// the client is told the same limits.
const LIMITS = { rate: 500, burst: 500 };
const COSTS = { 'crm.lead.update': 0.001, 'crm.lead.list': 0.001, default: 0.001 };

function csv(rows: number, tag: string): string {
  const lines = ['ID,TITLE'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},${tag} ${i}`);
  return lines.join('\n') + '\n';
}

/** What one chunk and many must agree on: not the timings, the request counts (a chunk re-reads its window) or the time series. */
function comparable(s: Summary): Partial<Summary> {
  const {
    startedAt: _a,
    finishedAt: _b,
    runId: _c,
    report: _d,
    rowsPerSecond: _e,
    source: _f,
    requests: _g,
    throttledMs: _h,
    series: _i,
    ...rest
  } = s;
  return rest;
}

describe('local flow against the sandbox portal (real import)', () => {
  let dir: string;
  let s3: LocalS3;
  let store: S3Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-portal-'));
    s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
    store = new S3Store(s3.client, BUCKET);
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function portal(): Promise<Sandbox> {
    const sb = await startSandbox({ ...LIMITS, costs: COSTS });
    sb.seedLeads(randomLeads(ROWS, 3).map((lead, i) => ({ ...lead, ID: i + 1 })));
    return sb;
  }

  function flow(sb: Sandbox, env: Record<string, string>, extra: Partial<LocalFlowOptions> = {}) {
    return createLocalFlow({
      client: s3.client,
      webhookUrl: sb.webhookUrl,
      env: { LOG_LEVEL: 'SILENT', PORTAL_RATE: String(LIMITS.rate), PORTAL_BURST: String(LIMITS.burst), ...env },
      ...extra,
    });
  }

  async function reportIds(summary: Summary): Promise<Array<[number, string]>> {
    let text = '';
    for await (const c of await store.read(summary.report.report)) text += String(c);
    return text
      .trimEnd()
      .split(/\r\n/)
      .slice(1)
      .map((l) => {
        const cells = l.split(',');
        return [Number(cells[1]), cells[2]] as [number, string];
      });
  }

  /**
   * Hands the real sender only the first `slice` rows of each window and defers the rest, as a chunk deadline
   * does (the engine carries deferred rows to the next chunk), so the run takes many chunks on any machine.
   * (A wall-clock budget measured here still let a loaded machine spend it all on one diff read: NO_PROGRESS.)
   */
  function slicingPortal(slice: number): NonNullable<LocalFlowOptions['portal']> {
    return async (url, options) => {
      const session = await openPortal(url, options);
      const send = session.sender.send.bind(session.sender) as (
        rows: ValidRow[],
        deadline: number,
        ...more: unknown[]
      ) => Promise<RowOutcome[]>;
      return {
        ...session,
        sender: {
          stats: () => session.sender.stats(),
          // Extra arguments (the engine's journal hooks) pass through untouched.
          send: async (rows: ValidRow[], deadline: number, ...more: unknown[]) => [
            ...(await send(rows.slice(0, slice), deadline, ...more)),
            ...rows.slice(slice).map((r) => rowOutcome(r, 'skipped', { errorCode: DEFERRED, message: 'deferred to the next chunk' })),
          ],
        },
      };
    };
  }

  function writesPerLead(sb: Sandbox): Map<number, number> {
    const per = new Map<number, number>();
    for (const e of sb.ledger()) per.set(Number(e.id), (per.get(Number(e.id)) ?? 0) + 1);
    return per;
  }

  it('5,000 rows in many small chunks: every lead updated once, lines in order, same summary as one chunk', async () => {
    const sbMany = await portal();
    const sbOne = await portal();
    try {
      const one = flow(sbOne, {});
      await store.write('incoming/one.csv', csv(ROWS, 'Imported'));
      const b = await one.start({ bucket: BUCKET, key: 'incoming/one.csv' });
      const summaryOne = await one.summaryOf(b.runs[0].executionName!);

      let chunks = 0;
      const many = flow(sbMany, {}, { onChunk: () => void chunks++, portal: slicingPortal(1000) });
      await store.write('incoming/many.csv', csv(ROWS, 'Imported'));
      const a = await many.start({ bucket: BUCKET, key: 'incoming/many.csv' });
      const summaryMany = await many.summaryOf(a.runs[0].executionName!);
      expect(chunks).toBeGreaterThanOrEqual(5);

      const ids = await reportIds(summaryMany);
      expect(ids.map(([id]) => id)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
      const per = writesPerLead(sbMany);
      expect(per.size).toBe(ROWS);
      expect([...per.values()].every((n) => n === 1)).toBe(true);
      expect(sbMany.lead(4321)?.TITLE).toBe('Imported 4321');
      // Rows a later window wrote must not be re-read as `unchanged` by the next chunk: one window at a time.
      expect(summaryMany.counts, 'rows written in one chunk are re-sent by the next').toMatchObject({ updated: ROWS, unchanged: 0 });
      expect(comparable(summaryMany)).toEqual(comparable(summaryOne));
    } finally {
      await sbMany.close();
      await sbOne.close();
    }
  });

  it('a worker killed mid-chunk (after sending some windows) resumes without losing or re-writing a row', async () => {
    const sb = await portal();
    try {
      let sends = 0;
      let killed = false;
      const dying = async (url: string, options: RunOptions) => {
        const session = await openPortal(url, options);
        return {
          ...session,
          sender: {
            stats: () => session.sender.stats(),
            send: async (rows: Parameters<typeof session.sender.send>[0], deadline: number) => {
              // The 2nd window (of 2,500 rows): the 1st reached the portal, its part was never written.
              if (++sends === 2 && !killed) {
                killed = true;
                const err = new Error('worker killed');
                err.name = 'Runtime.ExitError';
                throw err;
              }
              return session.sender.send(rows, deadline);
            },
          },
        };
      };
      const f = flow(sb, {}, { portal: dying });
      await store.write('incoming/killed.csv', csv(ROWS, 'Resumed'));
      const { runs } = await f.start({ bucket: BUCKET, key: 'incoming/killed.csv' });
      const summary = await f.summaryOf(runs[0].executionName!);
      const execution = f.stateMachine.executions.get(runs[0].executionName!)!;
      expect(killed).toBe(true);
      expect(execution.error).toBeUndefined();
      expect(execution.invocations).toBeGreaterThanOrEqual(2);
      expect(summary).toMatchObject({ rows: ROWS, complete: true });
      const lines = await reportIds(summary);
      expect(lines.map(([id]) => id)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
      // Rows written before the crash are found already up to date on the retry (diff), never written twice.
      expect((summary.counts.updated ?? 0) + (summary.counts.unchanged ?? 0)).toBe(ROWS);
      const per = writesPerLead(sb);
      expect(per.size).toBe(ROWS);
      expect([...per.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await sb.close();
    }
  });
});
