/**
 * OVERLOAD_LIMIT (the portal's manual REST block) in the middle of a run: the run stops cleanly, the report
 * says which rows were written and which were skipped (and why), and a re-run of the same file finishes the
 * job — diff mode finds the written rows unchanged and writes only the rest. Direct driveRun over FsStore:
 * S3 adds nothing to this scenario.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPortal } from '../../lambda/calls/session.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { driveRun, newRunState } from '../../lambda/run/drive.ts';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import type { RowStatus } from '../../lambda/types.ts';
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

const ROWS = 3000;
const LIMITS = { rate: 50, burst: 50, operatingLimit: 1000, operatingWindow: 10 };

let dir: string | undefined;
let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = undefined;
  dir = undefined;
});

describe('fault suite: OVERLOAD_LIMIT mid-run, then a re-run', () => {
  it('stops cleanly with the unsent rows skipped, and a re-run finishes the job without writing anything twice', async () => {
    const t0 = Date.now();
    sb = await startSandbox({ ...LIMITS, seed: 5 });
    dir = await mkdtemp(join(tmpdir(), 'faults-overload-'));
    const file = seedFile(sb, ROWS, 'ov');
    await writeFile(join(dir, 'leads.csv'), file.csv);
    const store = new FsStore(dir);
    const options = parseRunOptions({ limits: LIMITS });
    const clientLog: string[] = [];

    async function run(name: string) {
      const session = await openPortal(sb!.webhookUrl, options, { timeoutMs: 2000, backoffMs: 20, log: (l) => void clientLog.push(l) });
      const state = newRunState({
        source: { bucket: '', ...(await store.head('leads.csv')) },
        reportPrefix: `${name}/`,
        partsPrefix: `${name}-parts/`,
        options,
      });
      const { summary } = await driveRun(
        state,
        { source: store, output: store, sender: session.sender, catalogue: session.catalogue },
        { chunkBudgetMs: 60_000 },
      );
      const text = await readText(store, summary.report.report);
      return { summary, text, report: parseReport(text) };
    }

    // The block switches on after 30 more requests: past the preflight and the first few windows' batches.
    sb.setFaults({ overloadAfter: 30 });
    const first = await run('first');
    expect(sb.stats().faults.overload ?? 0).toBeGreaterThan(0);
    expect(first.summary.halted).toMatchObject({ code: 'OVERLOAD_LIMIT' });
    expect(first.summary.complete).toBe(false);
    expect(first.summary.counts).toEqual(countsOf(first.report).counts);
    expect(first.summary.errorCodes).toEqual(countsOf(first.report).errorCodes);
    // Every row still has its line; the run wrote some rows and skipped the rest with the reason.
    expect(reportMismatches(first.report, file, ['updated', 'skipped'])).toEqual([]);
    const updated1 = first.report.filter((l) => l.status === 'updated');
    const skipped1 = first.report.filter((l) => l.status === 'skipped');
    expect(updated1.length).toBeGreaterThan(0);
    expect(skipped1.length).toBeGreaterThan(ROWS / 2);
    expect(skipped1.every((l) => l.errorCode === 'OVERLOAD_LIMIT' && /overload/i.test(l.message))).toBe(true);
    // The report tells the truth: `updated` leads hold the row, `skipped` leads were not touched.
    const statuses = new Map<number, RowStatus>(first.report.map((l) => [l.line, l.status]));
    expect(leadMismatches(sb, file, statuses)).toEqual([]);

    // The block is lifted; the same file again.
    sb.setFaults({});
    sb.setOverload(false);
    const second = await run('second');
    expect(second.summary.complete).toBe(true);
    expect(reportMismatches(second.report, file, ['updated', 'unchanged'])).toEqual([]);
    const byLine = new Map(second.report.map((l) => [l.line, l.status]));
    expect(updated1.filter((l) => byLine.get(l.line) !== 'unchanged').map((l) => l.line)).toEqual([]);
    const kind = new Map(file.rows.map((r) => [r.line, r.kind]));
    expect(skipped1.filter((l) => kind.get(l.line) === 'update' && byLine.get(l.line) !== 'updated').map((l) => l.line)).toEqual([]);
    expect(leadMismatches(sb, file)).toEqual([]);
    expect(duplicates(sb)).toEqual([]);
    expect([...writesPerLead(sb).values()].every((n) => n === 1)).toBe(true);
    expect(writesPerLead(sb).size).toBe(file.rows.filter((r) => r.kind === 'update').length);

    const outputs: Record<string, string> = { clientLog: clientLog.join('\n') };
    for (const name of await readdir(dir, { recursive: true })) {
      if (name.endsWith('.csv') || name.endsWith('.json')) outputs[name] = await readFile(join(dir, name), 'utf8');
    }
    expect(leaks(outputs, secretsOf(sb.webhookUrl))).toEqual([]);
    console.log(
      JSON.stringify({
        scenario: 'overload + re-run',
        rows: ROWS,
        lines: [first.report.length, second.report.length],
        first: countsOf(first.report).counts,
        second: countsOf(second.report).counts,
        duplicates: 0,
        leaks: 0,
        wallMs: Date.now() - t0,
      }),
    );
  }, 120_000);
});
