import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FinalizeEnvSchema, readEnv } from '../../lambda/aws/env.ts';
import { createFinalizeHandler } from '../../lambda/aws/finalizeHandler.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { keyedLinkSigner, MAX_LINK_SECONDS, parseSignerKey } from '../../lambda/aws/presign.ts';
import type { PublishInput } from '../../lambda/aws/runMail.ts';
import { clearSecretCache, type SecretReader } from '../../lambda/aws/secret.ts';
import { type RunEventDetail, utcMinute } from '../../lambda/report/notice.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../harness/localS3.ts';
import { leaks } from '../support/faults.ts';
import { dryRunParts, signatureMatches, signingKeyId, urlExpiry } from './signedUrls.ts';

const SIGNER_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:b24-lead-import/link-signer-AbCdEf';
const SIGNER = { accessKeyId: 'AKIAEXAMPLESIGNER001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+signerSECRETkey01' };
const ROLE = {
  accessKeyId: 'ASIAEXAMPLEROLE00001',
  secretAccessKey: 'role/Secret+Key0000000000000000000000',
  sessionToken: 'role-session',
};
const NOW = new Date('2026-12-01T17:30:42Z');

/** A reader that counts its calls and answers the signer's key as infra/linkSigner.ts stores it. */
function keyReader(value = JSON.stringify(SIGNER)): SecretReader & { calls: string[] } {
  const calls: string[] = [];
  return Object.assign(
    async (id: string) => {
      calls.push(id);
      return value;
    },
    { calls },
  );
}

function logLines() {
  const lines: string[] = [];
  return { lines, log: createLogger({ service: 't', level: 'INFO', write: (l) => void lines.push(l) }) };
}

describe("finalize's links signed with the link signer's long-term key (7 days)", () => {
  let s3: LocalS3;
  let dir: string;
  let store: S3Store;
  let finished: RunState;
  /** The role's client as Lambda has it: temporary credentials (a session token) with no known end. */
  let role: ReturnType<typeof localS3Client>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'link-signer-'));
    s3 = await startLocalS3({ directory: dir, buckets: ['leads'] });
    store = new S3Store(s3.client, 'leads');
    finished = await dryRunParts(s3.client, store, 'june leads.csv', 'ID,TITLE,OPPORTUNITY\n1,Ann,100\n2,Bob,lots\n');
    role = localS3Client(s3.endpoint, { credentials: ROLE });
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => clearSecretCache());

  it("with the signer's key: X-Amz-Expires 604800, signed by the signer's key id (not the role's), no session token", async () => {
    const read = keyReader();
    const { log, lines } = logLines();
    const sign = await keyedLinkSigner({ s3: role, secretArn: SIGNER_ARN, read, now: () => NOW })(log);
    const link = await sign('leads', 'reports/june leads.csv/run1/report.html');
    const q = new URL(link.url).searchParams;
    expect(q.get('X-Amz-Expires')).toBe('604800');
    expect(MAX_LINK_SECONDS).toBe(604800);
    expect(signingKeyId(link.url)).toBe(SIGNER.accessKeyId);
    expect(q.get('X-Amz-Credential')).toBe(`${SIGNER.accessKeyId}/20261201/us-east-1/s3/aws4_request`);
    expect(q.has('X-Amz-Security-Token')).toBe(false);
    expect(signatureMatches(link.url, SIGNER.secretAccessKey)).toBe(true);
    expect(signatureMatches(link.url, ROLE.secretAccessKey)).toBe(false);
    // The role's endpoint and addressing are kept: the same object, path style on the local server.
    expect(link.url.startsWith(`${s3.endpoint}/leads/reports/june%20leads.csv/run1/report.html?`)).toBe(true);
    expect(link).toMatchObject({ expiresAt: new Date(NOW.getTime() + 604800_000), sessionBound: false });
    expect(read.calls).toEqual([SIGNER_ARN]);
    expect(lines).toEqual([]);
  });

  it('the key is read through the secret cache: one read for several runs, read again after its time to live', async () => {
    const read = keyReader();
    const signer = keyedLinkSigner({ s3: role, secretArn: SIGNER_ARN, read, now: () => NOW });
    const { log } = logLines();
    for (let run = 0; run < 3; run++) {
      const sign = await signer(log);
      expect(signingKeyId((await sign('leads', 'reports/a/report.html')).url)).toBe(SIGNER.accessKeyId);
    }
    expect(read.calls).toHaveLength(1);
    clearSecretCache(); // what SECRET_MAX_AGE_MS does to a warm container
    const rotated = { accessKeyId: 'AKIAEXAMPLEROTATED01', secretAccessKey: 'rotated/Secret+Key000000000000000000' };
    const sign = await keyedLinkSigner({ s3: role, secretArn: SIGNER_ARN, read: keyReader(JSON.stringify(rotated)), now: () => NOW })(log);
    const url = (await sign('leads', 'reports/a/report.html')).url;
    expect(signingKeyId(url)).toBe(rotated.accessKeyId);
    expect(signatureMatches(url, rotated.secretAccessKey)).toBe(true);
  });

  it('a key that cannot be read: the role signs as before (its session bounds the links), one WARN naming the secret only', async () => {
    // Refused by Secrets Manager, and a value that is not the key's JSON (JSON.parse's own message would quote it).
    const refused: SecretReader = async () => {
      throw Object.assign(new Error(`User is not authorized to perform secretsmanager:GetSecretValue on ${SIGNER_ARN}`), {
        name: 'AccessDeniedException',
      });
    };
    const truncated = keyReader(JSON.stringify(SIGNER).slice(0, -3));
    const wrongShape = keyReader(JSON.stringify({ user: SIGNER.accessKeyId, password: SIGNER.secretAccessKey }));
    // The bare secret access key: JSON.parse's own message would quote its first characters.
    const bare = keyReader(SIGNER.secretAccessKey);
    for (const read of [refused, truncated, wrongShape, bare]) {
      clearSecretCache();
      const { log, lines } = logLines();
      const sign = await keyedLinkSigner({ s3: role, secretArn: SIGNER_ARN, read, now: () => NOW })(log);
      const a = await sign('leads', 'reports/a/report.html');
      const b = await sign('leads', 'reports/a/rejected.csv');
      for (const link of [a, b]) {
        expect(signingKeyId(link.url)).toBe(ROLE.accessKeyId);
        expect(new URL(link.url).searchParams.get('X-Amz-Security-Token')).toBe(ROLE.sessionToken);
        expect(link.sessionBound).toBe(true);
      }
      const warned = lines.map((l) => JSON.parse(l));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({
        level: 'WARN',
        message: "could not read the link signer's key; the role signs the links, they end with its session",
        signerKeyArn: SIGNER_ARN,
      });
      expect(leaks({ log: lines.join('\n') }, [SIGNER.accessKeyId, SIGNER.secretAccessKey.slice(0, 8)])).toEqual([]);
    }
  });

  it('no signer secret configured: the role signs, nothing is read, nothing is logged', async () => {
    const { log, lines } = logLines();
    const sign = await keyedLinkSigner({ s3: role, now: () => NOW })(log);
    expect(signingKeyId((await sign('leads', 'reports/a/report.html')).url)).toBe(ROLE.accessKeyId);
    expect(lines).toEqual([]);
  });

  it('parseSignerKey takes the JSON pair only; its errors name the secret, never its value', () => {
    expect(parseSignerKey('arn:s', JSON.stringify(SIGNER))).toEqual(SIGNER);
    for (const bad of [
      undefined,
      '',
      SIGNER.secretAccessKey,
      `{"accessKeyId":"${SIGNER.accessKeyId}"}`,
      '{"accessKeyId":"lower","secretAccessKey":"x"}',
    ]) {
      const err = (() => {
        try {
          parseSignerKey('arn:s', bad);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err?.message).toBe('secret arn:s does not hold an access key (expected {"accessKeyId": "…", "secretAccessKey": "…"})');
    }
  });

  it("through finalize: the message says 'Links valid until' 7 days on; the key's secret is nowhere, its id only in the links' X-Amz-Credential", async () => {
    const sent: PutEventsRequestEntry[] = [];
    const mailed: PublishInput[] = [];
    const { log, lines } = logLines();
    const handler = createFinalizeHandler({
      env: readEnv(FinalizeEnvSchema, { BUCKET: 'leads', LINK_SIGNER_SECRET_ARN: SIGNER_ARN }),
      store: () => store,
      log,
      events: {
        putEvents: async (entries) => {
          sent.push(...entries);
          return { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };
        },
      },
      mail: {
        topicArn: 'arn:aws:sns:eu-central-1:123456789012:runs',
        sns: {
          publish: async (input) => {
            mailed.push(input);
            return { MessageId: 'm-1' };
          },
        },
      },
      signer: keyedLinkSigner({ s3: role, secretArn: SIGNER_ARN, read: keyReader() }),
    });
    const before = Date.now();
    const summary = await handler(structuredClone(finished));
    const detail = JSON.parse(sent[0].Detail!) as RunEventDetail;
    const message = detail.message;
    expect(mailed[0].Message).toBe(message);
    const html = /^Report: (\S+)$/m.exec(message)![1];
    const rejected = /^Rows to fix \(rejected\.csv\): (\S+)$/m.exec(message)![1];
    for (const url of [html, rejected]) {
      expect(signingKeyId(url)).toBe(SIGNER.accessKeyId);
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(MAX_LINK_SECONDS));
    }
    const until = urlExpiry(html);
    expect(until.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + MAX_LINK_SECONDS * 1000);
    expect(message).toContain(`\nLinks valid until ${utcMinute(until.toISOString())}\n`);
    expect(message).not.toContain('session');
    // The key id is part of every SigV4 URL (X-Amz-Credential); anywhere else, and the secret anywhere, is a leak.
    const outsideLinks = (text: string) => text.replace(/X-Amz-Credential=[^&\s"\\]+/g, 'X-Amz-Credential=…');
    const outputs = {
      logs: lines.join('\n'),
      event: outsideLinks(JSON.stringify(sent)),
      mail: outsideLinks(JSON.stringify(mailed)),
      summary: JSON.stringify(summary),
      summaryJson: await new Response((await store.read(summary.report.summary)) as never).text(),
    };
    expect(leaks(outputs, [SIGNER.accessKeyId, SIGNER.secretAccessKey, encodeURIComponent(SIGNER.secretAccessKey)])).toEqual([]);
    expect(leaks({ event: JSON.stringify(sent), mail: JSON.stringify(mailed) }, [SIGNER.secretAccessKey])).toEqual([]);
  });
});
