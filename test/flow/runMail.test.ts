import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/main.ts';
import { LocalTopic } from '../../harness/flow/localRunEnd.ts';
import type { PublishInput } from '../../lambda/aws/runMail.ts';
import { rowsNeedingAttention } from '../../lambda/report/lines.ts';
import { runMessage } from '../../lambda/report/notice.ts';
import type { Summary } from '../../lambda/run/state.ts';

/** `npm start` on two files; every Publish request finalize sends reaches the test's SNS edge. */
describe('npm start: finalize mails the run’s message, and the local flow prints exactly that text', () => {
  let dir: string;
  let printed: string;
  const mailed: PublishInput[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-mail-'));
    await writeFile(join(dir, 'june.csv'), 'ID,TITLE,OPPORTUNITY\n21,Ann,100\n22,Bob,lots\n');
    await writeFile(join(dir, 'clean.csv'), 'ID,TITLE\n23,Cy\n');
    const lines: string[] = [];
    await main([join(dir, 'june.csv'), join(dir, 'clean.csv')], {
      dataDir: join(dir, 's3'),
      out: (l) => void lines.push(l),
      err: () => undefined,
      onMail: (input) => void mailed.push(input),
    });
    printed = lines.join('\n');
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('one Publish per run to the local topic; each message is byte-equal to the text printed for it', () => {
    expect(mailed.map((m) => m.TopicArn)).toEqual([LocalTopic.ARN, LocalTopic.ARN]);
    for (const mail of mailed) {
      // Printed as its own block: a blank line, the message, then the next run's summary or the portal line.
      expect(printed).toContain(`\n\n${mail.Message}\n`);
      expect(mail.Message).toContain('\n');
      expect(mail.Message.startsWith('"')).toBe(false);
      expect(mail.Message).not.toContain('\\n');
    }
    expect(mailed.map((m) => m.Subject)).toEqual(['b24-lead-import: june.csv - incomplete', 'b24-lead-import: clean.csv - complete']);
    expect(mailed.map((m) => m.MessageAttributes.result.StringValue)).toEqual(['incomplete', 'complete']);
  });

  it('the message is runMessage of the run’s summary.json with its local links (no expiry claimed for files)', async () => {
    for (const mail of mailed) {
      const runId = mail.MessageAttributes.runId.StringValue;
      const folder = /^Files: (s3:\/\/leads\/reports\/[^/]+\/[0-9a-f]+\/)$/m.exec(mail.Message)![1];
      expect(folder.endsWith(`/${runId}/`)).toBe(true);
      const key = folder.replace('s3://leads/', '');
      const summary = JSON.parse(await readFile(join(dir, 's3', 'leads', key, 'summary.json._S3rver_object'), 'utf8')) as Summary;
      const html = join(dir, 'reports', runId, 'report.html');
      const rejected = join(dir, 'reports', runId, 'rejected.csv');
      const needsFixing = rowsNeedingAttention(summary) > 0;
      expect(mail.Message).toBe(runMessage(summary, { html, ...(needsFixing ? { rejected } : {}), folder }));
      expect(mail.Message).not.toContain('valid until');
      expect(await readFile(html, 'utf8')).toMatch(/^<!doctype html>/i);
    }
  });
});
