/**
 * A run that fails mid-way still gives every row exactly one report line: the rows the failed chunk had
 * applied keep `updated` (from the applied journal), every row after them is `skipped` RUN_FAILED naming the
 * failure, and the summary carries the chunk's error. Through the flow (the Chunk state's retriers, the Catch,
 * SkipRest ⟲, FinalizeFailedRun) and through the CLI's driver, against the sandbox and its ledger.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow, type LocalFlowOptions } from '../../harness/flow/localFlow.ts';
import { type LocalS3, startLocalS3 } from '../../harness/localS3.ts';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import { parseRunOptions, type RunOptions } from '../../lambda/config.ts';
import { driveRun, newRunState } from '../../lambda/run/drive.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import type { LeadSender, RowOutcome, ValidRow } from '../../lambda/types.ts';
import { parseReport, readText, writesPerLead } from '../support/faults.ts';

const BUCKET = 'leads';
const ROWS = 300;
const APPLIED = 100;
const LIMITS = { rate: 1000, burst: 1000 };

type SendFn = (rows: ValidRow[], deadline: number, ...rest: unknown[]) => Promise<RowOutcome[]>;

/** A sender that applies the first 100 rows it is given, then breaks (an unexpected error), and stays broken. */
function breakingSender(inner: LeadSender): LeadSender & { calls: number } {
  const s = {
    calls: 0,
    stats: () => inner.stats(),
    send: async (rows: ValidRow[], deadline: number, ...rest: unknown[]) => {
      if (s.calls++ === 0) await (inner.send as SendFn).call(inner, rows.slice(0, APPLIED), deadline, ...rest);
      throw new Error('the sender broke (a bug)');
    },
  };
  return s;
}

function leadsCsv(sb: Sandbox): { csv: string; ids: number[] } {
  const ids = sb.seedLeads(Array.from({ length: ROWS }, (_, i) => ({ TITLE: `old ${i}` })));
  return { csv: `ID,TITLE,PHONE_WORK\n${ids.map((id, i) => `${id},new ${i},+7900${1_000_000 + i}`).join('\n')}\n`, ids };
}

/** Rows in = lines out: the applied rows `updated` (each lead written once), every other row skipped RUN_FAILED. */
function expectEveryRowOnce(sb: Sandbox, ids: number[], report: ReturnType<typeof parseReport>): void {
  expect(report.map((l) => l.line)).toEqual(ids.map((_, i) => i + 2));
  const updated = report.filter((l) => l.status === 'updated');
  expect(updated.map((l) => l.line)).toEqual(ids.slice(0, APPLIED).map((_, i) => i + 2));
  const rest = report.slice(APPLIED);
  expect(rest.filter((l) => l.status !== 'skipped' || l.errorCode !== 'RUN_FAILED')).toEqual([]);
  expect(rest[0].message).toMatch(/the run failed before this row was sent \(.*the sender broke \(a bug\)\)/);
  const per = writesPerLead(sb);
  expect(per.size).toBe(APPLIED);
  expect([...per.values()].filter((n) => n !== 1)).toEqual([]);
}

describe('a run that fails mid-way reports every row', () => {
  let dir: string;
  let s3: LocalS3;
  let sb: Sandbox;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flow-unsent-'));
    s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
    sb = await startSandbox(LIMITS);
  });
  afterAll(async () => {
    await sb.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('flow: a chunk that fails for good → SkipRest → FinalizeFailedRun: one line per row, the error in the summary', async () => {
    const { csv, ids } = leadsCsv(sb);
    const store = new S3Store(s3.client, BUCKET);
    await store.write('incoming/fails.csv', csv);
    let broken: ReturnType<typeof breakingSender> | undefined;
    const portal: NonNullable<LocalFlowOptions['portal']> = async (url: string, options: RunOptions) => {
      const session = await openPortal(url, options, { timeoutMs: 5000, backoffMs: 5 });
      broken ??= breakingSender(session.sender);
      return { ...session, sender: broken };
    };
    const flow = createLocalFlow({
      client: s3.client,
      webhookUrl: sb.webhookUrl,
      env: { LOG_LEVEL: 'SILENT', PORTAL_RATE: String(LIMITS.rate), PORTAL_BURST: String(LIMITS.burst) },
      portal,
    });
    const { runs } = await flow.start({ bucket: BUCKET, key: 'incoming/fails.csv' });
    const summary = await flow.summaryOf(runs[0].executionName!);
    const execution = flow.stateMachine.executions.get(runs[0].executionName!)!;
    // The deployed retriers ran (States.TaskFailed: 3 more attempts), then the Catch.
    expect(broken!.calls).toBe(4);
    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('Error');
    expect(summary.error).toMatchObject({ code: 'Error', message: 'the sender broke (a bug)' });
    expect(summary.rows).toBe(ROWS);
    expect(summary.counts).toMatchObject({ updated: APPLIED, skipped: ROWS - APPLIED, failed: 0 });
    expectEveryRowOnce(sb, ids, parseReport(await readText(store, summary.report.report)));
    expect(await store.list(`parts/${runs[0].runId}/`)).toEqual([]);
  }, 60_000);

  it('CLI driver: a chunk that throws: one line per row, the error in the summary', async () => {
    const { csv, ids } = leadsCsv(sb);
    const local = await mkdtemp(join(tmpdir(), 'drive-unsent-'));
    try {
      await writeFile(join(local, 'in.csv'), csv);
      const store = new FsStore(local);
      const options = parseRunOptions({ limits: LIMITS });
      const session = await openPortal(sb.webhookUrl, options, { timeoutMs: 5000, backoffMs: 5 });
      const before = writesPerLead(sb).size;
      const state = newRunState({
        source: { bucket: '', ...(await store.head('in.csv')) },
        reportPrefix: 'out/',
        partsPrefix: 'parts/',
        options,
      });
      const { summary } = await driveRun(state, {
        source: store,
        output: store,
        sender: breakingSender(session.sender),
        catalogue: session.catalogue,
      });
      expect(summary.error).toMatchObject({ code: 'RUN_FAILED', message: 'the sender broke (a bug)' });
      expect(summary.rows).toBe(ROWS);
      const report = parseReport(await readText(store, summary.report.report));
      expect(writesPerLead(sb).size - before).toBe(APPLIED);
      // The ledger holds both runs' leads; this run's are the ids of this file.
      const per = writesPerLead(sb);
      expect(ids.slice(0, APPLIED).every((id) => per.get(id) === 1)).toBe(true);
      expect(ids.slice(APPLIED).every((id) => !per.has(id))).toBe(true);
      expect(report.map((l) => l.line)).toEqual(ids.map((_, i) => i + 2));
      expect(report.slice(0, APPLIED).every((l) => l.status === 'updated')).toBe(true);
      expect(report.slice(APPLIED).every((l) => l.status === 'skipped' && l.errorCode === 'RUN_FAILED')).toBe(true);
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  }, 60_000);
});
