/**
 * A key resolves once per run (lambda/run/keyTable.ts): the rows of one key go to the lead its first row
 * matched (or fail as it did), whatever window or chunk they fall in, even when a row of the file or another
 * writer moves the key in between. Runs through driveRun with one row per chunk, each chunk a fresh start
 * that only knows what the earlier chunks stored, against the sandbox portal and its ledger.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../../harness/sandbox/portal.ts';
import { openPortal } from '../../../lambda/calls/session.ts';
import { parseRunOptions, type RunOptionsInput } from '../../../lambda/config.ts';
import { driveRun, newRunState } from '../../../lambda/run/drive.ts';
import { FsStore } from '../../../lambda/stores/fsStore.ts';
import type { LeadSender } from '../../../lambda/types.ts';

let sb: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = dir = undefined;
});

type Line = Record<string, string>;

/**
 * Runs `csv` one row per chunk. `between(n)` runs before the n-th send (n ≥ 2: after n-1 chunks sent theirs),
 * as another writer on the portal would.
 */
async function runInChunks(csv: string, options: RunOptionsInput, between?: (n: number) => Promise<void>) {
  dir = await mkdtemp(join(tmpdir(), 'match-once-'));
  await writeFile(join(dir, 'in.csv'), csv);
  const source = new FsStore(dir);
  const output = new FsStore(join(dir, 'out'));
  const opts = parseRunOptions(options);
  const session = await openPortal(sb!.webhookUrl, opts, { timeoutMs: 5000, backoffMs: 20 });
  let sends = 0;
  const sender: LeadSender = {
    stats: () => session.sender.stats(),
    send: async (rows, deadline, hooks) => {
      await between?.(++sends);
      return session.sender.send(rows, deadline, hooks);
    },
  };
  const state = newRunState({
    source: { bucket: '', ...(await source.head('in.csv')) },
    reportPrefix: '',
    partsPrefix: '.parts/',
    options: opts,
  });
  const { summary } = await driveRun(state, { source, output, catalogue: session.catalogue, sender }, { chunkRows: 1 });
  const read = async (name: string) => parse(await readFile(join(dir!, 'out', name), 'utf8'), { columns: true }) as Line[];
  return { summary, sends, report: await read('report.csv'), plan: opts.dryRun ? await read('plan.csv') : [] };
}

/** Another writer: a direct crm.lead.update on the portal (loopback). */
async function otherWriter(id: number, fields: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sb!.webhookUrl}crm.lead.update.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, fields }),
  });
  expect(((await res.json()) as { result?: unknown }).result).toBe(true);
}

const updates = () => sb!.ledger().filter((e) => e.method === 'crm.lead.update');

describe('--match: a key resolves once per run, whatever chunk its rows fall in', () => {
  it('a row of the file takes the key off its lead: a later row with that key, in a later chunk, still reaches that lead, not NO_MATCH', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [ann] = sb.seedLeads([{ TITLE: 'Ann', EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'WORK' }] }]);
    // Line 3 names Ann's lead by ID and, in replace mode, leaves it only moved@example.com.
    const csv = `ID,EMAIL,TITLE\n,ann@example.com,First\n${ann},moved@example.com,Moved\n,ANN@example.com,Third\n`;
    const r = await runInChunks(csv, { match: 'EMAIL', multifield: 'replace' });
    expect(r.summary.rows).toBe(3);
    expect(r.report.map((x) => [x.line, x.id, x.status, x.error_code])).toEqual([
      ['2', String(ann), 'updated', ''],
      ['3', String(ann), 'updated', ''],
      ['4', String(ann), 'updated', ''],
    ]);
    expect(updates().map((w) => [w.id, w.fields.TITLE])).toEqual([
      [ann, 'First'],
      [ann, 'Moved'],
      [ann, 'Third'],
    ]);
    // In file order: line 4 replaced the e-mails last.
    expect(sb.lead(ann)!.TITLE).toBe('Third');
    expect(sb.lead(ann)!.EMAIL?.map((e) => e.VALUE)).toEqual(['ANN@example.com']);
    // One duplicate search for the run: line 4's key was resolved by line 2.
    expect(sb.stats().batchCommands['crm.duplicate.findbycomm']).toBe(1);
  });

  it('another writer gives the key to a second lead between chunks: later rows still go to the first lead, never to the new one', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [ann, other] = sb.seedLeads([
      { TITLE: 'Ann', EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'WORK' }] },
      { TITLE: 'Other', EMAIL: [{ VALUE: 'other@example.com', VALUE_TYPE: 'WORK' }] },
    ]);
    const csv = 'EMAIL,TITLE\nann@example.com,First\nann@example.com,Second\nAnn@Example.com,Third\n';
    const r = await runInChunks(csv, { match: 'EMAIL' }, async (n) => {
      if (n === 2) await otherWriter(other, { EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'HOME' }] });
    });
    expect(r.report.map((x) => [x.line, x.id, x.status, x.error_code])).toEqual([
      ['2', String(ann), 'updated', ''],
      ['3', String(ann), 'updated', ''],
      ['4', String(ann), 'updated', ''],
    ]);
    // The run wrote only Ann's lead; the other lead has only the other writer's change.
    expect(updates().filter((w) => w.id === other)).toHaveLength(1);
    expect(
      updates()
        .filter((w) => w.id === ann)
        .map((w) => w.fields.TITLE),
    ).toEqual(['First', 'Second', 'Third']);
    expect(sb.lead(other)!.TITLE).toBe('Other');
  });

  it('NO_MATCH and AMBIGUOUS_MATCH are the answer for the run: a key no lead held (or two held) at its first row fails alike in later chunks, after another writer changed that', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [ann, twin1, twin2] = sb.seedLeads([
      { TITLE: 'Ann', EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'WORK' }] },
      { TITLE: 'Twin 1', EMAIL: [{ VALUE: 'twin@example.com', VALUE_TYPE: 'WORK' }] },
      { TITLE: 'Twin 2', EMAIL: [{ VALUE: 'twin@example.com', VALUE_TYPE: 'WORK' }] },
    ]);
    const csv = 'EMAIL,TITLE\nghost@example.com,G1\ntwin@example.com,T1\nghost@example.com,G2\ntwin@example.com,T2\n';
    const r = await runInChunks(csv, { match: 'EMAIL' }, async (n) => {
      if (n !== 3) return;
      // Now Ann holds the ghost key and only one twin holds theirs.
      await otherWriter(ann, { EMAIL: [{ VALUE: 'ghost@example.com', VALUE_TYPE: 'HOME' }] });
      await otherWriter(twin2, { EMAIL: [{ ID: sb!.lead(twin2)!.EMAIL![0].ID, DELETE: 'Y' }] });
    });
    expect(r.report.map((x) => [x.line, x.id, x.status, x.error_code])).toEqual([
      ['2', '', 'failed', 'NO_MATCH'],
      ['3', '', 'failed', 'AMBIGUOUS_MATCH'],
      ['4', '', 'failed', 'NO_MATCH'],
      ['5', '', 'failed', 'AMBIGUOUS_MATCH'],
    ]);
    // This row's own spelling of the key, and the leads its first row found.
    expect(r.report[1].error_message).toBe(`2 leads have the e-mail "twin@example.com": ${twin1}, ${twin2}`);
    expect(r.report[3].error_message).toBe(`2 leads have the e-mail "twin@example.com": ${twin1}, ${twin2}`);
    expect(r.report[2].error_message).toBe('no lead has the e-mail "ghost@example.com"');
    // The run wrote nothing; the two writes are the other writer's.
    expect(updates()).toHaveLength(2);
    expect([sb.lead(ann)!.TITLE, sb.lead(twin1)!.TITLE]).toEqual(['Ann', 'Twin 1']);
  });

  it('a dry run: nothing written, plan.csv and report.csv show the lead of every row, the key looked up once', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [ann] = sb.seedLeads([{ TITLE: 'Ann', EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'WORK' }] }]);
    const csv = `ID,EMAIL,TITLE\n,ann@example.com,First\n${ann},moved@example.com,Moved\n,ANN@example.com,Third\n,nobody@example.com,None\n`;
    const r = await runInChunks(csv, { match: 'EMAIL', multifield: 'replace', dryRun: true });
    expect(r.report.map((x) => [x.line, x.id, x.status, x.error_code])).toEqual([
      ['2', String(ann), 'valid', ''],
      ['3', String(ann), 'valid', ''],
      ['4', String(ann), 'valid', ''],
      ['5', '', 'failed', 'NO_MATCH'],
    ]);
    expect(r.plan.map((x) => [x.line, x.id])).toEqual([
      ['2', String(ann)],
      ['3', String(ann)],
      ['4', String(ann)],
      ['5', ''],
    ]);
    expect(sb.ledger()).toEqual([]);
    expect(sb.stats().batchCommands['crm.duplicate.findbycomm']).toBe(2);
  });
});
