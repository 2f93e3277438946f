/**
 * Undo in the deployment (#14), end to end through the local flow (s3rver events, the three handlers, the
 * synthesised state machine) against the sandbox: a file dropped under incoming/ is imported, then the manual
 * invocation `{ "undo": "<its report prefix>" }` takes it back. Every lead is as it was before the import, field
 * by field and multifield by multifield; the undo reports under reports/<file>-undo/<runId>/ and its change log
 * is the import's mirror; an undo of that undo restores the import's result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow, type LocalFlow } from '../../harness/flow/localFlow.ts';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import type { Summary } from '../../lambda/run/state.ts';
import type { LeadRecord } from '../../lambda/types.ts';
import { parseReport, readText } from '../support/faults.ts';
import { type EventBucket, startEventBucket } from '../support/s3.ts';
import { dropObject } from './support/drop.ts';

const BUCKET = 'leads';
const FIELDS = ['TITLE', 'NAME', 'COMMENTS', 'OPPORTUNITY'];

/** A lead as a person compares it: its fields, each multifield as sorted VALUE_TYPE:VALUE (a re-added entry has a new ID). */
function shape(l: LeadRecord | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = l?.[f];
  for (const t of ['PHONE', 'EMAIL', 'WEB'] as const) out[t] = (l?.[t] ?? []).map((e) => `${e.VALUE_TYPE}:${e.VALUE}`).sort();
  return out;
}

interface Entry {
  id: number;
  field: string;
  before: string;
  after: string;
}

describe('{ "undo": "reports/<file>/<run>/" } takes an S3 import back', () => {
  let bucket: EventBucket;
  let sb: Sandbox;
  let flow: LocalFlow;
  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'undo-invoke');
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    flow = createLocalFlow({ client: bucket.s3.client, bucket: BUCKET, webhookUrl: sb.webhookUrl, env: { LOG_LEVEL: 'SILENT' } });
  });
  afterAll(async () => {
    await sb.close();
    await bucket.close();
  });

  const all = (ids: number[]) => ids.map((id) => shape(sb.lead(id)));
  const prefixOf = (summary: Summary) => summary.report.summary.replace(/summary\.json$/, '');
  const changes = async (summary: Summary): Promise<Entry[]> =>
    (await readText(bucket.store, summary.report.changesJson!))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Entry);
  /** What changed from what to what, entry IDs aside (a re-added phone has a new one). */
  const moves = (log: Entry[], back = false) =>
    log.map((e) => `${e.id} ${e.field.replace(/#\d+$/, '')} ${back ? e.after : e.before} → ${back ? e.before : e.after}`).sort();

  async function undo(prefix: string, extra: Record<string, unknown> = {}) {
    const { runs } = await flow.start({ undo: prefix, ...extra });
    expect(runs).toHaveLength(1);
    return { run: runs[0], summary: await flow.summaryOf(runs[0].executionName!) };
  }

  it('every lead back as it was, multifields included; the report under reports/<file>-undo/; the log mirrored; undo of the undo', async () => {
    const ids = sb.seedLeads([
      {
        TITLE: 'A0',
        COMMENTS: 'keep',
        OPPORTUNITY: '100.00',
        PHONE: [
          { VALUE: '+7 900 111-11-11', VALUE_TYPE: 'WORK' },
          { VALUE: '+7 900 222-22-22', VALUE_TYPE: 'HOME' },
        ],
        EMAIL: [{ VALUE: 'a@example.com', VALUE_TYPE: 'WORK' }],
      },
      { TITLE: 'B0', NAME: 'Bob', EMAIL: [{ VALUE: 'b@example.com', VALUE_TYPE: 'HOME' }] },
      { TITLE: 'C0' },
    ]);
    const csv = [
      'ID,TITLE,NAME,OPPORTUNITY,PHONE_MOBILE,EMAIL_WORK',
      `${ids[0]},A1,,250,+7 900 333-33-33,a@example.com`,
      `${ids[1]},B1,Robert,,,b2@example.com`,
      `${ids[2]},C0,,,,`,
    ].join('\n');
    const before = all(ids);

    const event = await dropObject(bucket.s3, BUCKET, 'incoming/may.csv', `${csv}\n`, { 'b24-options': '--multifield replace' });
    const imported = (await flow.start(event)).runs[0];
    const importSummary = await flow.summaryOf(imported.executionName!);
    expect(importSummary.counts).toMatchObject({ updated: 2, unchanged: 1 });
    const afterImport = all(ids);
    expect(afterImport).not.toEqual(before);
    const importLog = await changes(importSummary);
    expect(importLog.map((e) => e.field.replace(/#\d+$/, '#n')).sort()).toEqual(
      ['EMAIL:HOME#n', 'EMAIL:WORK', 'NAME', 'OPPORTUNITY', 'PHONE:HOME#n', 'PHONE:MOBILE', 'PHONE:WORK#n', 'TITLE', 'TITLE'].sort(),
    );
    const importPrefix = prefixOf(importSummary);
    expect(importPrefix).toBe(`reports/may.csv/${imported.runId}/`);

    // A dry run of the undo first: what it would put back (plan.csv), nothing written to the portal.
    const writesBeforeDry = sb.ledger().length;
    const dry = await undo(importPrefix, { dryRun: true });
    expect(dry.summary).toMatchObject({ dryRun: true, changeLog: false });
    expect(prefixOf(dry.summary)).toBe(`reports/may.csv-undo/${dry.run.runId}/`);
    const plan = (await readText(bucket.store, dry.summary.report.plan!)).trimEnd().split('\r\n');
    expect(plan).toEqual(['line,id,status,changes', `2,${ids[0]},valid,"TITLE;OPPORTUNITY;PHONE"`, `3,${ids[1]},valid,"TITLE;NAME;EMAIL"`]);
    expect(sb.ledger().length).toBe(writesBeforeDry);
    expect(all(ids)).toEqual(afterImport);

    // The undo: its input under undo/ (no start of its own), its report beside the import's, under reports/.
    const { run, summary } = await undo(importPrefix);
    expect(run).toMatchObject({ status: 'started', key: `undo/may.csv/${imported.runId}.csv` });
    expect(prefixOf(summary)).toBe(`reports/may.csv-undo/${run.runId}/`);
    expect(run.reportPrefix).toBe(prefixOf(summary));
    expect(summary).toMatchObject({ complete: true, changeLog: true, counts: { updated: 2 } });
    expect(all(ids)).toEqual(before);
    const report = parseReport(await readText(bucket.store, summary.report.report));
    expect(report.map((l) => [l.id, l.status, l.errorCode])).toEqual([
      [String(ids[0]), 'updated', ''],
      [String(ids[1]), 'updated', ''],
    ]);
    const undoLog = await changes(summary);
    expect(moves(undoLog, true)).toEqual(moves(importLog));
    expect(await bucket.store.list('incoming/')).toEqual(['incoming/may.csv']);
    expect(await bucket.store.list('undo/')).toEqual([run.key]);

    // The same undo again is a duplicate: nothing runs, nothing is written to the portal.
    const writes = sb.ledger().length;
    expect((await flow.start({ undo: importPrefix })).runs[0]).toMatchObject({ status: 'duplicate', runId: run.runId });
    expect(sb.ledger().length).toBe(writes);

    // An undo of the undo restores the import's result; it reports under reports/may.csv-undo-undo/.
    const again = await undo(prefixOf(summary), { bucket: BUCKET });
    expect(prefixOf(again.summary)).toBe(`reports/may.csv-undo-undo/${again.run.runId}/`);
    expect(all(ids)).toEqual(afterImport);
  }, 120_000);

  it('a dry run of an import has no change log: its undo is refused, and nothing is queued', async () => {
    const [id] = sb.seedLeads([{ TITLE: 'Dry' }]);
    const event = await dropObject(bucket.s3, BUCKET, 'incoming/dry.csv', `ID,TITLE\n${id},wet\n`, { 'b24-options': '--dry-run' });
    const dry = (await flow.start(event)).runs[0];
    const summary = await flow.summaryOf(dry.executionName!);
    expect(summary.changeLog).toBe(false);
    await expect(flow.start({ undo: prefixOf(summary) })).rejects.toThrow(
      /that run has no change log \(a dry run\), so it cannot be undone/,
    );
    expect((await bucket.store.list('undo/')).filter((k) => k.startsWith('undo/dry.csv/'))).toEqual([]);
    expect(sb.lead(id)!.TITLE).toBe('Dry');
  }, 60_000);
});
