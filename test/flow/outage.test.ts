/**
 * A portal outage of minutes, through the real flow (s3rver + the three handlers + the local state machine with
 * the deployed retry policy) on a compressed clock: the web server in front of the sandbox goes down once 100
 * leads are written (a proxy answering nginx's 502 page or dropping connections, so nothing reaches the
 * portal). Writes fail for 30 s, the chunk writes what it finished and returns `waitUntilIso`; the workflow's
 * WaitForPortal holds the execution (no chunk runs) until then; the next chunks find the portal down at their
 * very start (preflight) and wait again, until it is back, or past the run's outage wait (OUTAGE_WAIT_MS) the
 * run halts PORTAL_UNREACHABLE with every unsent row skipped. Either way: one report line per row, and the
 * ledger has one write per lead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { type LocalS3, startLocalS3 } from '../../harness/localS3.ts';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { parseReport, readText, writesPerLead } from '../support/faults.ts';
import { compressedClock, type OutageMode, startOutageProxy } from '../support/outageProxy.ts';

const BUCKET = 'leads';
const ROWS = 300;
const LIMITS = { rate: 1000, burst: 1000 };
/** Clock-ms per real ms: 30 s of failing writes take 1.5 s; waits jump the clock at once. */
const SPEED = 20;

describe('a portal outage through the flow', () => {
  let dir: string;
  let s3: LocalS3;
  let store: S3Store;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flow-outage-'));
    s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
    store = new S3Store(s3.client, BUCKET);
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function outageFlow(name: string, opts: { downMs: number; mode: OutageMode; env?: Record<string, string> }) {
    const sb: Sandbox = await startSandbox(LIMITS);
    const clock = compressedClock(Date.parse('2024-03-01T00:00:00Z'), SPEED);
    let down: { from: number; until: number } | undefined;
    const proxy = await startOutageProxy(sb.webhookUrl, {
      mode: opts.mode,
      isDown: () => down !== undefined && clock.now() >= down.from && clock.now() < down.until,
      onPassed: () => {
        if (!down && writesPerLead(sb).size >= 100) down = { from: clock.now(), until: clock.now() + opts.downMs };
      },
    });
    try {
      const ids = sb.seedLeads(Array.from({ length: ROWS }, (_, i) => ({ TITLE: `old ${i}` })));
      const key = `incoming/${name}.csv`;
      await store.write(key, `ID,TITLE,PHONE_WORK\n${ids.map((id, i) => `${id},new ${i},+7900${1_000_000 + i}`).join('\n')}\n`);
      const waits: number[] = [];
      const states: RunState[] = [];
      const flow = createLocalFlow({
        client: s3.client,
        webhookUrl: proxy.webhookUrl,
        env: { LOG_LEVEL: 'SILENT', PORTAL_RATE: String(LIMITS.rate), PORTAL_BURST: String(LIMITS.burst), ...opts.env },
        // The client's own retries are quick here (real ms); everything else runs on the compressed clock.
        portal: (url, options) => openPortal(url, options, { timeoutMs: 2000, backoffMs: 1, now: clock.now }),
        now: clock.now,
        wait: async (until) => {
          waits.push(until - clock.now());
          await clock.wait(until);
        },
        onChunk: (s) => void states.push(s),
      });
      const started = Date.now();
      const t0 = clock.now();
      const { runs } = await flow.start({ bucket: BUCKET, key });
      const summary = await flow.summaryOf(runs[0].executionName!);
      const report = parseReport(await readText(store, summary.report.report));
      const execution = flow.stateMachine.executions.get(runs[0].executionName!)!;
      return {
        summary,
        report,
        ids,
        sb,
        waits,
        states,
        execution,
        down: down!,
        clockMs: clock.now() - t0,
        realMs: Date.now() - started,
        turnedAway: proxy.turnedAway,
      };
    } finally {
      await proxy.close();
      await sb.close();
    }
  }

  it('down for 2.5 minutes (502 pages): the run waits it out between chunks and completes, each lead written once', async () => {
    const r = await outageFlow('short', { downMs: 150_000, mode: 'bad-gateway' });
    console.info(
      `outage 150 s on the run's clock: ${Math.round(r.clockMs / 1000)} s of run time in ${r.realMs} ms, waits ${r.waits.map((w) => Math.round(w / 1000))} s`,
    );
    expect(r.down).toBeDefined();
    expect(r.turnedAway).toBeGreaterThan(0);
    // Rows in = lines out, in order, all written by this run.
    expect(r.report.map((l) => l.line)).toEqual(r.ids.map((_, i) => i + 2));
    expect(r.report.filter((l) => l.status !== 'updated')).toEqual([]);
    expect(r.summary).toMatchObject({ rows: ROWS, complete: true });
    expect(r.summary.halted).toBeUndefined();
    expect(r.summary.error).toBeUndefined();
    expect(r.execution.status).toBe('SUCCEEDED');
    // The ledger: one write per lead, one phone per lead.
    const per = writesPerLead(r.sb);
    expect(per.size).toBe(ROWS);
    expect([...per.values()].filter((n) => n !== 1)).toEqual([]);
    expect(r.ids.filter((id) => (r.sb.lead(id)?.PHONE ?? []).length !== 1)).toEqual([]);
    // The execution waited in WaitForPortal (at most a minute each time) and went on once the portal was back.
    expect(r.waits.length).toBeGreaterThanOrEqual(1);
    expect(r.waits.every((w) => w > 0 && w <= 60_000)).toBe(true);
    expect(r.clockMs).toBeGreaterThanOrEqual(150_000);
    // The chunk that met the outage wrote the rows it had finished before it returned.
    const first = r.states.find((s) => s.checkpoint.unreachable)!;
    expect(first.checkpoint.rows).toBeGreaterThanOrEqual(100);
    expect(first.checkpoint.waitUntilIso).toBe(new Date(first.checkpoint.waitUntil!).toISOString());
    expect(r.states.at(-1)!.checkpoint.unreachable).toBeUndefined();
  }, 90_000);

  it('down for longer than OUTAGE_WAIT_MS (connections refused): halted PORTAL_UNREACHABLE, every unsent row skipped with the reason', async () => {
    const r = await outageFlow('long', { downMs: Number.POSITIVE_INFINITY, mode: 'refuse', env: { OUTAGE_WAIT_MS: String(5 * 60_000) } });
    console.info(`outage past a 5 min wait: ${Math.round(r.clockMs / 1000)} s of run time in ${r.realMs} ms, ${r.waits.length} waits`);
    expect(r.report.map((l) => l.line)).toEqual(r.ids.map((_, i) => i + 2));
    expect(r.summary.rows).toBe(ROWS);
    expect(r.summary.halted?.code).toBe('PORTAL_UNREACHABLE');
    expect(r.summary.halted?.message).toMatch(/unreachable for \d+ min .*past the run's outage wait of 5 min/);
    expect(r.execution.status).toBe('FAILED');
    const updated = r.report.filter((l) => l.status === 'updated');
    expect(updated.length).toBeGreaterThanOrEqual(100);
    const rest = r.report.filter((l) => l.status !== 'updated');
    expect(rest.length).toBe(ROWS - updated.length);
    expect(rest.filter((l) => l.status !== 'skipped' || l.errorCode !== 'PORTAL_UNREACHABLE')).toEqual([]);
    expect(rest.every((l) => /unreachable/.test(l.message))).toBe(true);
    const per = writesPerLead(r.sb);
    expect(per.size).toBe(updated.length);
    expect([...per.values()].filter((n) => n !== 1)).toEqual([]);
    // It gave up no sooner than the wait, waiting in WaitForPortal between chunks that found the portal down at
    // their very start (preflight refused: an outage, not a failed chunk).
    expect(r.clockMs).toBeGreaterThanOrEqual(5 * 60_000);
    expect(r.waits.length).toBeGreaterThanOrEqual(2);
    const atStart = r.states.filter((s, i) => s.checkpoint.unreachable && i > 0 && s.checkpoint.rows === r.states[i - 1].checkpoint.rows);
    expect(atStart.length).toBeGreaterThanOrEqual(1);
    expect(r.execution.error).toBeUndefined();
  }, 90_000);
});
