import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { main, type CliIO } from '../../lambda/cli/main.ts';
import { cliS3Client, parseS3Url } from '../../lambda/cli/s3Source.ts';
import { startLocalS3, type LocalS3 } from '../../harness/localS3.ts';
import { startSandbox } from '../../harness/sandbox/portal.ts';

function capture(env: Record<string, string>, cwd: string): CliIO & { out: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    cwd,
    out: () => out,
    errText: () => err,
  };
}

describe('CLI on s3://bucket/key through the SDK standard settings', () => {
  let dir: string;
  let s3: LocalS3;
  let store: S3Store;
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-s3-'));
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['leads'] });
    store = new S3Store(s3.client, 'leads');
    // What a user sets for a local server or MinIO: the SDK's own variables, nothing of ours.
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_PROFILE;
  });
  afterAll(async () => {
    process.env = saved;
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('parses s3:// URLs and leaves paths alone', () => {
    expect(parseS3Url('s3://leads/incoming/a b.csv')).toEqual({ bucket: 'leads', key: 'incoming/a b.csv' });
    expect(parseS3Url('./leads.csv')).toBeUndefined();
    expect(parseS3Url('s3://leads')).toBeUndefined();
  });

  it('the client follows AWS_ENDPOINT_URL_S3 with path-style addressing', async () => {
    const client = cliS3Client();
    try {
      expect(await new S3Store(client, 'leads').list('nothing/')).toEqual([]);
      expect(client.config.forcePathStyle).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('imports s3://bucket/key (dry run) and writes the report back to the bucket under reports/', async () => {
    await store.write('incoming/may.csv', 'ID,TITLE\n1,A\n2,B\nx,C\n');
    const io = capture({}, dir);
    const code = await main(['s3://leads/incoming/may.csv', '--dry-run'], io);
    expect(code).toBe(1); // one invalid ID
    expect(io.out()).toMatch(/report: +s3:\/\/leads\/reports\/may\.csv\/[0-9a-f]{16}\/report\.csv/);
    const keys = await store.list('reports/may.csv/');
    expect(keys.map((k) => k.split('/').pop())).toEqual(['rejected.csv', 'rejected.safe.csv', 'report.csv', 'report.html', 'summary.json']);
    const summaryKey = keys.find((k) => k.endsWith('summary.json'))!;
    let json = '';
    for await (const c of await store.read(summaryKey)) json += String(c);
    expect(JSON.parse(json)).toMatchObject({ rows: 3, dryRun: true, counts: { valid: 2, invalid: 1 } });
    expect(await store.list('parts/')).toEqual([]);
  });

  it("undo s3://…/reports/<file>/<run>/ reads that run's change log from the bucket and takes the run back", async () => {
    const sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    try {
      const [a, b] = sb.seedLeads([{ TITLE: 'A0' }, { TITLE: 'B0' }]);
      await store.write('incoming/june.csv', `ID,TITLE\n${a},A1\n${b},B1\n`);
      const env = { BITRIX24_WEBHOOK_URL: sb.webhookUrl };
      expect(await main(['s3://leads/incoming/june.csv'], capture(env, dir))).toBe(0);
      expect([sb.lead(a)?.TITLE, sb.lead(b)?.TITLE]).toEqual(['A1', 'B1']);
      const log = (await store.list('reports/june.csv/')).find((k) => k.endsWith('/changes.jsonl'))!;
      const runFolder = log.slice(0, -'changes.jsonl'.length);
      const io = capture(env, dir);
      expect(await main(['undo', `s3://leads/${runFolder}`, '--out', join(dir, 'june-undo')], io)).toBe(0);
      expect([sb.lead(a)?.TITLE, sb.lead(b)?.TITLE]).toEqual(['A0', 'B0']);
      expect(await readFile(join(dir, 'june-undo', 'changes.csv'), 'utf8')).toContain(`,${a},TITLE,A1,A0`);
    } finally {
      await sb.close();
    }
  });

  it('with --out the report of an S3 object goes to a local folder', async () => {
    const io = capture({}, dir);
    const code = await main(['s3://leads/incoming/may.csv', '--dry-run', '--out', 'rep'], io);
    expect(code).toBe(1);
    expect(JSON.parse(await readFile(join(dir, 'rep', 'summary.json'), 'utf8'))).toMatchObject({ rows: 3 });
  });

  it('a missing object is a clear error with exit 2', async () => {
    const io = capture({}, dir);
    expect(await main(['s3://leads/incoming/none.csv', '--dry-run'], io)).toBe(2);
    expect(io.errText()).toContain('cannot read s3://leads/incoming/none.csv');
  });
});
