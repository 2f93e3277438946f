/**
 * Per-file options for S3 drops (#13): whoever drops a file cannot pass flags, so the object carries them in its
 * user metadata `b24-options` (`aws s3 cp --metadata 'b24-options=…'`, the console's `x-amz-meta-b24-options`).
 * Through the local flow (s3rver events, the real handlers, the local state machine) against the sandbox: the
 * options reach the run, are bounded by the deployment as a manual payload's are, and a bad one refuses the file
 * with the reason in summary.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { parseReport, readText } from '../support/faults.ts';
import { type EventBucket, startEventBucket } from '../support/s3.ts';
import { dropObject } from './support/drop.ts';

const BUCKET = 'leads';
const DEPLOYED_RATE = 5;

describe("an S3 drop's own options (object metadata b24-options)", () => {
  let bucket: EventBucket;
  let sb: Sandbox;
  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'object-options');
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  });
  afterAll(async () => {
    await sb.close();
    await bucket.close();
  });

  /** Drops `body` under incoming/ with `options` as its metadata; the run's summary, report and its options as the chunks saw them. */
  async function drop(name: string, body: string, options?: string, env: Record<string, string> = {}) {
    const states: RunState[] = [];
    const flow = createLocalFlow({
      client: bucket.s3.client,
      webhookUrl: sb.webhookUrl,
      env: { LOG_LEVEL: 'SILENT', PORTAL_RATE: String(DEPLOYED_RATE), PORTAL_BURST: '50', ...env },
      onChunk: (state) => void states.push(state),
    });
    const key = `incoming/${name}`;
    const event = await dropObject(bucket.s3, BUCKET, key, body, options === undefined ? undefined : { 'b24-options': options });
    const { runs } = await flow.start(event);
    const summary: Summary = await flow.summaryOf(runs[0].executionName!);
    const report = parseReport(await readText(bucket.store, summary.report.report));
    return { runs, summary, report, options: states[0]?.options, flow };
  }

  it('--match EMAIL --multifield replace: rows without an ID find their lead by e-mail, and phones are replaced', async () => {
    const [ann, bob] = sb.seedLeads([
      {
        TITLE: 'Ann',
        EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'WORK' }],
        PHONE: [{ VALUE: '+79000000001', VALUE_TYPE: 'WORK' }],
      },
      { TITLE: 'Bob', EMAIL: [{ VALUE: 'bob@example.com', VALUE_TYPE: 'WORK' }] },
    ]);
    const csv = 'EMAIL,TITLE,PHONE_WORK\nANN@example.com,Ann by e-mail,+79000000002\nnobody@example.com,Ghost,\n';
    const r = await drop('by-email.csv', csv, '--match EMAIL --multifield replace');
    expect(r.options).toMatchObject({ match: 'EMAIL', multifield: 'replace' });
    expect(r.report.map((l) => [l.line, l.id, l.status, l.errorCode])).toEqual([
      [2, String(ann), 'updated', ''],
      [3, '', 'failed', 'NO_MATCH'],
    ]);
    expect(sb.lead(ann)!.TITLE).toBe('Ann by e-mail');
    // replace: the lead holds exactly the row's work phone (merge would have kept +79000000001 beside it).
    expect(sb.lead(ann)!.PHONE!.map((p) => p.VALUE)).toEqual(['+79000000002']);
    expect(sb.lead(bob)!.TITLE).toBe('Bob');
  });

  it("without metadata the deployment's defaults apply: an e-mail-keyed file is refused for its missing ID column", async () => {
    const [cy] = sb.seedLeads([{ TITLE: 'Cy', PHONE: [{ VALUE: '+79000000011', VALUE_TYPE: 'WORK' }] }]);
    const plain = await drop('plain.csv', `ID,TITLE,PHONE_WORK\n${cy},Cy again,+79000000012\n`);
    expect(plain.options).toMatchObject({ multifield: 'merge', limits: { rate: DEPLOYED_RATE } });
    expect(plain.options?.match).toBe('ID');
    expect(plain.summary.counts).toMatchObject({ updated: 1 });
    // merge (the default): the new phone is added beside the old one.
    expect(sb.lead(cy)!.PHONE!.map((p) => p.VALUE)).toEqual(['+79000000011', '+79000000012']);

    const keyed = await drop('keyed-no-options.csv', 'EMAIL,TITLE\nann@example.com,Not by e-mail\n');
    expect(keyed.summary.refused?.code).toMatch(/HEADER|ID/);
    expect(sb.leads().some((l) => l.TITLE === 'Not by e-mail')).toBe(false);
  });

  it("--rate 50 cannot raise the deployment's rate; --rate 1 tightens it (the manual payload's bounds, one policy)", async () => {
    const [id] = sb.seedLeads([{ TITLE: 'Rate' }]);
    const raised = await drop('rate-50.csv', `ID,TITLE\n${id},rate 50\n`, '--rate 50 --burst 500');
    expect(raised.options?.limits).toMatchObject({ rate: DEPLOYED_RATE, burst: 50 });
    expect(raised.summary.counts).toMatchObject({ updated: 1 });
    const lowered = await drop('rate-1.csv', `ID,TITLE\n${id},rate 1\n`, '--rate 1');
    expect(lowered.options?.limits.rate).toBe(1);
    // A file may make itself a dry run, never a dry-run deployment write.
    const dry = await drop('dry.csv', `ID,TITLE\n${id},dry\n`, '--dry-run');
    expect(dry.summary).toMatchObject({ dryRun: true, counts: { valid: 1 } });
    expect(sb.lead(id)!.TITLE).toBe('rate 1');
  });

  it('a bad option refuses the file: INVALID_OPTIONS naming the flag in summary.json, the report files written, nothing sent', async () => {
    const [id] = sb.seedLeads([{ TITLE: 'Untouched' }]);
    const writesBefore = sb.ledger().length;
    for (const [name, options, message] of [
      ['frobnicate.csv', '--frobnicate 1', /^the file's options \(metadata b24-options\) are refused: .*--frobnicate/],
      ['sometimes.csv', '--match EMAIL --multifield sometimes', /^the file's options \(metadata b24-options\) are refused: --multifield: /],
      ['stray.csv', 'EMAIL', /"EMAIL" is not a flag/],
      ['out.csv', '--out /tmp/x', /--out cannot be set for one file/],
    ] as const) {
      const r = await drop(name, `ID,TITLE\n${id},changed\n`, options);
      expect(r.summary.refused?.code, name).toBe('INVALID_OPTIONS');
      expect(r.summary.refused?.message, name).toMatch(message);
      expect(r.summary.complete).toBe(false);
      expect(r.runs[0].reason).toMatch(/INVALID_OPTIONS/);
      const files = await bucket.store.list(`reports/${name}/${r.runs[0].runId}/`);
      // The report files any refused file gets (at least these; the report set may grow).
      expect(files.map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual(
        expect.arrayContaining(['rejected.csv', 'rejected.safe.csv', 'report.csv', 'report.html', 'summary.json']),
      );
      expect(await readText(bucket.store, r.summary.report.html!)).toContain('INVALID_OPTIONS');
    }
    expect(sb.ledger().length).toBe(writesBefore);
    expect(sb.lead(id)!.TITLE).toBe('Untouched');
  });

  it("a manual start reads the object's metadata too; the payload's options win over it", async () => {
    const [id] = sb.seedLeads([{ TITLE: 'Manual', PHONE: [{ VALUE: '+79000000021', VALUE_TYPE: 'WORK' }] }]);
    const key = 'incoming/manual.csv';
    await dropObject(bucket.s3, BUCKET, key, `ID,TITLE,PHONE_WORK\n${id},manual,+79000000022\n`, {
      'b24-options': '--multifield replace --rate 1',
    });
    const states: RunState[] = [];
    const flow = createLocalFlow({
      client: bucket.s3.client,
      webhookUrl: sb.webhookUrl,
      env: { LOG_LEVEL: 'SILENT', PORTAL_RATE: String(DEPLOYED_RATE) },
      onChunk: (state) => void states.push(state),
    });
    const { runs } = await flow.start({ bucket: BUCKET, key, options: { multifield: 'merge' } });
    await flow.summaryOf(runs[0].executionName!);
    expect(states[0].options).toMatchObject({ multifield: 'merge', limits: { rate: 1 } });
    expect(sb.lead(id)!.PHONE!.map((p) => p.VALUE)).toEqual(['+79000000021', '+79000000022']);
  });
});
