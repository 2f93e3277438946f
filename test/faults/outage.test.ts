/**
 * The portal goes down mid-run (every request answered by nginx's 502 page): the run waits it out between
 * chunks (checkpoint.unreachable / waitUntil) instead of ending, keeps every row the portal applied before it,
 * and halts with PORTAL_UNREACHABLE only once the run's outage wait is over. In-process driveRun over FsStore
 * (the CLI's path) against the sandbox behind a proxy that plays the down web server, and the sandbox's ledger;
 * the driver's sleeps jump the run's clock, so minutes of outage take milliseconds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { driveRun, newRunState } from '../../lambda/run/drive.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import type { LeadSender, RowOutcome } from '../../lambda/types.ts';
import { parseReport, readText, writesPerLead } from '../support/faults.ts';
import { compressedClock, startOutageProxy } from '../support/outageProxy.ts';

const ROWS = 300;
const LIMITS = { rate: 200, burst: 200 };

let dir: string | undefined;
let sb: Sandbox | undefined;
let closeProxy: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeProxy?.();
  closeProxy = undefined;
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = undefined;
  dir = undefined;
});

async function outageRun(opts: { outageWaitMs: number; downForMs?: number }) {
  sb = await startSandbox(LIMITS);
  dir = await mkdtemp(join(tmpdir(), 'faults-outage-'));
  // The run's clock: real time, plus the waits the driver sleeps (jumped at once, as the CLI's sleep would pass).
  const clock = compressedClock(Date.now(), 1);
  let down: { from: number; until: number } | undefined;
  const proxy = await startOutageProxy(sb.webhookUrl, {
    mode: 'bad-gateway',
    isDown: () => down !== undefined && clock.now() < down.until,
  });
  closeProxy = () => proxy.close();
  const ids = sb.seedLeads(Array.from({ length: ROWS }, (_, i) => ({ TITLE: `old ${i}` })));
  await writeFile(join(dir, 'in.csv'), `ID,TITLE,PHONE_WORK\n${ids.map((id, i) => `${id},new ${i},+7900${1_000_000 + i}`).join('\n')}\n`);
  const store = new FsStore(dir);
  const options = parseRunOptions({ limits: LIMITS, outageWaitMs: opts.outageWaitMs });
  const session = await openPortal(proxy.webhookUrl, options, { timeoutMs: 5000, backoffMs: 5, now: clock.now });
  let sends = 0;
  // The web server goes down (nginx 502 pages) once the first two windows (100 rows) are written.
  const sender: LeadSender = {
    stats: () => session.sender.stats(),
    send: async (rows, deadline, ...hooks: unknown[]) => {
      const out = await (session.sender.send as (...a: unknown[]) => Promise<RowOutcome[]>).call(session.sender, rows, deadline, ...hooks);
      if (++sends === 2) down = { from: clock.now(), until: clock.now() + (opts.downForMs ?? Number.POSITIVE_INFINITY) };
      return out;
    },
  };
  const state = newRunState({
    source: { bucket: '', ...(await store.head('in.csv')) },
    reportPrefix: 'out/',
    partsPrefix: 'parts/',
    options,
  });
  const states: RunState[] = [];
  const slept: number[] = [];
  const { summary } = await driveRun(
    state,
    { source: store, output: store, sender, catalogue: session.catalogue, windowRows: 50, now: clock.now },
    {
      onChunk: (s) => void states.push(s),
      sleep: (ms) => {
        slept.push(ms);
        return clock.sleep(ms);
      },
    },
  );
  const report = parseReport(await readText(store, summary.report.report));
  return { summary, report, ids, states, sb, slept };
}

describe('fault suite: the portal unreachable mid-run', () => {
  it('an outage of 3 minutes, shorter than the wait: the driver sleeps until waitUntil and goes on, every row updated once', async () => {
    const { summary, report, ids, states, sb, slept } = await outageRun({ outageWaitMs: 3600_000, downForMs: 180_000 });
    // It slept between chunks (a minute each) instead of spinning or failing the run.
    expect(slept.length).toBeGreaterThanOrEqual(3);
    expect(slept.every((ms) => ms > 0 && ms <= 60_000)).toBe(true);
    expect(report.map((l) => l.line)).toEqual(ids.map((_, i) => i + 2));
    expect(report.filter((l) => l.status !== 'updated')).toEqual([]);
    expect(summary).toMatchObject({ rows: ROWS, complete: true });
    expect(summary.halted).toBeUndefined();
    const waited = states.filter((s) => s.checkpoint.unreachable);
    expect(waited.length).toBeGreaterThan(0);
    expect(waited.every((s) => s.checkpoint.waitUntil !== undefined)).toBe(true);
    expect(states.at(-1)!.checkpoint.unreachable).toBeUndefined();
    const per = writesPerLead(sb);
    expect(per.size).toBe(ROWS);
    expect([...per.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it('an outage past the wait: the rows written before it keep their lines, the rest are skipped PORTAL_UNREACHABLE', async () => {
    const { summary, report, ids, sb, slept } = await outageRun({ outageWaitMs: 10 * 60_000 });
    expect(slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(9 * 60_000);
    expect(report.map((l) => l.line)).toEqual(ids.map((_, i) => i + 2));
    expect(summary.rows).toBe(ROWS);
    expect(summary.halted?.code).toBe('PORTAL_UNREACHABLE');
    const updated = report.filter((l) => l.status === 'updated');
    expect(updated.length).toBeGreaterThanOrEqual(100);
    const rest = report.filter((l) => l.status !== 'updated');
    expect(rest.every((l) => l.status === 'skipped' && l.errorCode === 'PORTAL_UNREACHABLE')).toBe(true);
    const per = writesPerLead(sb);
    expect(per.size).toBe(updated.length);
    expect([...per.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});
