import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lambda/aws/log.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { createLocalFlow } from '../../harness/flow/localFlow.ts';
import { startLocalS3, type LocalS3 } from '../../harness/localS3.ts';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import { allFiles, readRun, runCli, type CliResult } from '../support/badinput.ts';

/**
 * The webhook code never leaves the process: every output of a run — the CLI's stdout and stderr, every file it
 * wrote, every object in the bucket, every log line and the state passed between steps — is scanned for it,
 * in runs that succeed and in runs that fail (wrong code → 401, portal down, OVERLOAD_LIMIT, 500s).
 */

const CODE = 's3cr3tC0de7q9XwZ';
const WRONG = 's3cr3tC0deWR0NGx';

/** Every form the secret could take in text. */
function forms(code: string, url: string): string[] {
  return [code, encodeURIComponent(code), url, url.replace(/\/$/, ''), `/rest/1/${code}`, Buffer.from(code).toString('base64')];
}

function expectNoSecret(where: string, text: string, secrets: string[]) {
  for (const s of secrets) expect(text.includes(s), `${where} contains "${s}"`).toBe(false);
  // Not even a piece of it: the distinctive prefix.
  expect(text.includes('s3cr3tC0de'), `${where} contains the code's prefix`).toBe(false);
}

let dir: string;
let sb: Sandbox;
let sbUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secrets-'));
  sb = await startSandbox({ code: CODE, rate: 1000, burst: 1000, operatingLimit: 10_000, seed: 5 });
  sb.seedLeads(Array.from({ length: 20 }, (_, i) => ({ ID: i + 1, TITLE: `Lead ${i + 1}` })));
  sbUrl = sb.webhookUrl;
  expect(sbUrl).toContain(CODE);
});
afterAll(async () => {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
});

const csv = 'ID,TITLE,EMAIL\n1,New title,a@example.com\n2,Other,b@example.com\n999999,Missing,c@example.com\nx,Bad,d@example.com\n';

/** Runs the CLI against `url` and scans all it printed and wrote. */
async function scannedRun(name: string, url: string, extra: string[] = []): Promise<CliResult> {
  await writeFile(join(dir, `${name}.csv`), csv);
  const r = await runCli(dir, [`${name}.csv`, '--out', `${name}.out`, '--rate', '1000', '--burst', '1000', ...extra], {
    BITRIX24_WEBHOOK_URL: url,
  });
  const secrets = [...forms(CODE, sbUrl), ...forms(WRONG, url)];
  expectNoSecret(`${name}: stdout`, r.stdout, secrets);
  expectNoSecret(`${name}: stderr`, r.stderr, secrets);
  const files = await allFiles(join(dir, `${name}.out`));
  expect(files.size).toBeGreaterThanOrEqual(3);
  for (const [path, bytes] of files) expectNoSecret(`${name}: ${path}`, bytes.toString('latin1'), secrets);
  return r;
}

describe('CLI runs against the sandbox portal: the webhook code appears in no output', () => {
  it('a successful import', async () => {
    const r = await scannedRun('ok', sbUrl);
    expect(r.code).toBe(1); // one lead missing, one invalid ID
    const run = await readRun(join(dir, 'ok.out'));
    expect(run.report.map((x) => x.status)).toEqual(['updated', 'updated', 'failed', 'invalid']);
    expect(sb.lead(1)?.TITLE).toBe('New title');
    // The host may be shown (it says which portal), the code never.
    expect(r.stdout + r.stderr + run.summaryText).not.toContain('/rest/1/');
  });

  it('a wrong code (401 INVALID_CREDENTIALS)', async () => {
    const r = await scannedRun('wrong', sbUrl.replace(CODE, WRONG));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not open the portal/);
    const run = await readRun(join(dir, 'wrong.out'));
    expect(run.summary.error?.code).toBe('PORTAL_UNAVAILABLE');
    expect(run.summary.error?.message).toMatch(/INVALID_CREDENTIALS|401/);
  });

  it('a portal that is down (connection refused)', async () => {
    const down = await startSandbox({ code: CODE });
    const url = down.webhookUrl;
    await down.close();
    const r = await scannedRun('down', url, ['--outage-wait', '0']);
    expect(r.code).toBe(1);
    expect((await readRun(join(dir, 'down.out'))).summary.error?.code).toBe('PORTAL_UNAVAILABLE');
    // A dry run with the portal down warns and goes on offline, still without the code.
    const dry = await scannedRun('downdry', url, ['--dry-run']);
    expect(dry.stderr).toMatch(/warning: could not open the portal/);
    expect(dry.code).toBe(1); // the invalid ID
  });

  it('OVERLOAD_LIMIT (the portal blocks REST mid-run): the run halts, rows skipped, no code in the output', async () => {
    sb.setFaults({ overloadAfter: 1 });
    try {
      const r = await scannedRun('overload', sbUrl, ['--no-diff']);
      expect(r.code).toBe(1);
      const run = await readRun(join(dir, 'overload.out'));
      expect(JSON.stringify(run.summary)).toMatch(/OVERLOAD_LIMIT/);
    } finally {
      sb.setFaults({});
      sb.setOverload(false);
    }
  });

  it('500 errors on every request: the run fails, no code in the output', async () => {
    sb.setFaults({ internalError: 1 });
    try {
      const r = await scannedRun('err500', sbUrl, ['--no-diff']);
      expect(r.code).toBe(1);
      const run = await readRun(join(dir, 'err500.out'));
      expect(run.summary.complete).toBe(false);
    } finally {
      sb.setFaults({});
      sb.setOverload(false);
    }
  }, 120_000);
});

describe('the local flow (handlers over s3rver) with the sandbox portal', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['leads'] });
  });
  afterAll(async () => {
    await s3.close();
  });

  it('no log line, bucket object or step state carries the code, for a good run and a 401 run', async () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'b24-lead-import', level: 'DEBUG', write: (l) => void lines.push(l) });
    const store = new S3Store(s3.client, 'leads');
    const states: string[] = [];
    for (const [key, url] of [
      ['incoming/good.csv', sbUrl],
      ['incoming/bad.csv', sbUrl.replace(CODE, WRONG)],
    ] as const) {
      const f = createLocalFlow({
        client: s3.client,
        webhookUrl: url,
        env: { PORTAL_RATE: '1000', PORTAL_BURST: '1000' },
        log,
        onChunk: (state) => void states.push(JSON.stringify(state)),
      });
      await s3.client.send(new PutObjectCommand({ Bucket: 'leads', Key: key, Body: csv }));
      const { runs } = await f.start({ bucket: 'leads', key });
      const summary = await f.summaryOf(runs[0].executionName!).catch((e: Error) => ({ failed: e.message }));
      const execution = f.stateMachine.executions.get(runs[0].executionName!)!;
      states.push(JSON.stringify(summary), JSON.stringify(execution.input), JSON.stringify(execution.error ?? {}));
      if (key === 'incoming/good.csv') {
        // Leads 1 and 2 may already hold these titles from the CLI runs above: updated or unchanged, never failed.
        expect(summary).toMatchObject({ rows: 4, counts: { failed: 1, invalid: 1 } });
        const c = (summary as { counts: Record<string, number> }).counts;
        expect(c.updated + c.unchanged).toBe(2);
        // The 401 run still reports every row (the rest read without the portal: skipped RUN_FAILED, or invalid).
      } else
        expect(summary).toMatchObject({ rows: 4, complete: false, error: { code: 'RunHaltedError' }, counts: { skipped: 3, invalid: 1 } });
    }
    expect(lines.filter((l) => l.includes('"failedChunk"'))).toHaveLength(1); // the 401 run, logged without its URL
    const secrets = [...forms(CODE, sbUrl), ...forms(WRONG, sbUrl.replace(CODE, WRONG))];
    for (const l of lines) expectNoSecret('log line', l, secrets);
    for (const s of states) expectNoSecret('step state', s, secrets);
    const keys = await store.list('');
    // The good run: report, rejected, rejected.safe, plan, report.html, summary, changes.csv/.jsonl; the 401 run
    // never reached the sender: no plan.
    expect(keys.filter((k) => k.startsWith('reports/'))).toHaveLength(15);
    for (const key of keys) {
      let text = '';
      for await (const c of await store.read(key)) text += Buffer.from(c as Uint8Array).toString('latin1');
      expectNoSecret(`s3://leads/${key}`, text, secrets);
    }
  });
});
