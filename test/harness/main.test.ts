import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/main.ts';
import { runMessage } from '../../lambda/report/notice.ts';
import type { Summary } from '../../lambda/run/state.ts';

describe('npm start ends with the message a deployed run mails', () => {
  let dir: string;
  let lines: string[];
  let code: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'npm-start-'));
    const csv = join(dir, 'june.csv');
    await writeFile(csv, 'ID,TITLE,OPPORTUNITY\n11,Ann,100\n12,Bob,lots\n13,Cy,7\n');
    lines = [];
    code = await main([csv], { dataDir: join(dir, 's3'), out: (l) => void lines.push(l), err: () => undefined });
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the text is runMessage of the run’s summary.json, its links local copies that open as files', async () => {
    expect(code).toBe(1); // a row needs fixing
    const text = lines.join('\n');
    const start = text.indexOf('b24-lead-import: s3://leads/incoming/june.csv — incomplete');
    expect(start).toBeGreaterThan(0);
    const message = text.slice(start).split('\nportal: ')[0];
    const html = /^Report: (.+)$/m.exec(message)![1];
    const rejected = /^Rows to fix \(rejected\.csv\): (.+)$/m.exec(message)![1];
    const folder = /^Files: (s3:\/\/leads\/reports\/june\.csv\/[0-9a-f]+\/)$/m.exec(message)![1];
    const runId = folder.split('/').at(-2)!;
    const summaryPath = join(dir, 's3', 'leads', 'reports', 'june.csv', runId, 'summary.json._S3rver_object');
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as Summary;
    expect(message).toBe(runMessage(summary, { html, rejected, folder }));
    expect(html).toBe(join(dir, 'reports', runId, 'report.html'));
    expect(await readFile(html, 'utf8')).toMatch(/^<!doctype html>/i);
    expect((await readFile(rejected, 'utf8')).split(/\r?\n/)[1]).toBe('12,Bob,lots');
  });
});
