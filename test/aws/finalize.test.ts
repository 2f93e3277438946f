import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinalizeEnvSchema, readEnv } from '../../lambda/aws/env.ts';
import { createFinalizeHandler, type FinalizeDeps } from '../../lambda/aws/finalizeHandler.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { linkLifetime, MAX_LINK_SECONDS, presignGet } from '../../lambda/aws/presign.ts';
import type { EventPublisher } from '../../lambda/aws/runEnd.ts';
import { MAX_SUBJECT_CHARS, type MessagePublisher, type PublishInput } from '../../lambda/aws/runMail.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, type RunEventDetail, runMessage, utcMinute } from '../../lambda/report/notice.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../harness/localS3.ts';
import { dryRunParts, signatureMatches, urlExpiry } from './signedUrls.ts';

const HOOK = 'https://acme.bitrix24.com/rest/1/s3cr3tc0de/';
const SECRET = 'S3RVER';
const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:runs';

/** A fake SNS edge that keeps what it is given. */
function recorder(into: PublishInput[]): MessagePublisher {
  return {
    publish: async (input) => {
      into.push(input);
      return { MessageId: `m-${into.length}` };
    },
  };
}

describe('finalize publishes the run’s end to EventBridge', () => {
  let s3: LocalS3;
  let dir: string;
  let store: S3Store;
  let finished: RunState;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'finalize-events-'));
    s3 = await startLocalS3({ directory: dir, buckets: ['leads'] });
    store = new S3Store(s3.client, 'leads');
    finished = await chunked('june leads.csv', 'ID,TITLE,OPPORTUNITY\n1,Ann,100\n2,Bob,lots\n3,Cy,7\n');
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  const chunked = (name: string, csv: string) => dryRunParts(s3.client, store, name, csv);

  function finalizeWith(events: EventPublisher, extra: Partial<FinalizeDeps> = {}) {
    const lines: string[] = [];
    const handler = createFinalizeHandler({
      env: readEnv(FinalizeEnvSchema, { BUCKET: 'leads' }),
      store: () => store,
      log: createLogger({ service: 't', level: 'INFO', write: (l) => void lines.push(l) }),
      events,
      sign: (bucket, key) => presignGet(s3.client, bucket, key),
      ...extra,
    });
    return { handler, lines };
  }

  it('one event on the default bus: source, detail-type and the detail rendered from the real summary, links signed', async () => {
    const sent: PutEventsRequestEntry[][] = [];
    const { handler } = finalizeWith({
      putEvents: async (entries) => {
        sent.push(entries);
        return { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };
      },
    });
    const summary: Summary = await handler(structuredClone(finished));
    expect(sent).toHaveLength(1);
    const [entry] = sent[0];
    expect(entry).toMatchObject({ Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE });
    expect(entry.EventBusName).toBeUndefined(); // the account's default bus
    const detail = JSON.parse(entry.Detail!) as RunEventDetail;
    expect(detail).toMatchObject({
      runId: summary.runId,
      source: 's3://leads/incoming/june leads.csv',
      result: 'incomplete',
      dryRun: true,
      rows: 3,
      counts: summary.counts,
      bucket: 'leads',
      report: summary.report,
    });
    expect(detail.topErrorCodes).toEqual(Object.entries(summary.errorCodes).map(([code, rows]) => ({ code, rows })));
    const lines = detail.message.split('\n');
    expect(lines[0]).toBe('b24-lead-import: dry run of s3://leads/incoming/june leads.csv — incomplete');
    const html = /^Report: (\S+)$/.exec(lines.find((l) => l.startsWith('Report'))!)![1];
    const rejected = /^Rows to fix \(rejected\.csv\): (\S+)$/.exec(lines.find((l) => l.startsWith('Rows to fix'))!)![1];
    // Static credentials: the full 7 days, and the message names the links' real end (to the minute, in UTC).
    const until = urlExpiry(html);
    expect(urlExpiry(rejected)).toEqual(until);
    expect(lines.slice(-2)).toEqual([
      `Links valid until ${utcMinute(until.toISOString())}`,
      'Files: s3://leads/reports/june leads.csv/run1/',
    ]);
    expect(lines.at(-2)).toMatch(/^Links valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    for (const [url, key] of [
      [html, summary.report.html!],
      [rejected, summary.report.rejected],
    ] as const) {
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(MAX_LINK_SECONDS));
      expect(signatureMatches(url, SECRET)).toBe(true);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(await new Response((await store.read(key)) as never).text());
    }
    // The message is the one notice.ts renders for these links.
    expect(detail.message).toBe(
      runMessage(summary, { html, rejected, validUntil: until.toISOString(), folder: 's3://leads/reports/june leads.csv/run1/' }),
    );
  });

  it('no rejected.csv link when every row went through; temporary credentials cap the links at their session', async () => {
    const clean = await chunked('clean.csv', 'ID,TITLE\n1,Ann\n2,Bob\n');
    const expiration = new Date(Date.now() + 2 * 3600_000);
    const temporary = localS3Client(s3.endpoint, {
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET, sessionToken: 'session-token', expiration },
    });
    const sent: PutEventsRequestEntry[] = [];
    const { handler } = finalizeWith(
      {
        putEvents: async (entries) => {
          sent.push(...entries);
          return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
        },
      },
      { sign: (bucket, key) => presignGet(temporary, bucket, key) },
    );
    await handler(clean);
    const detail = JSON.parse(sent[0].Detail!) as RunEventDetail;
    expect(detail.result).toBe('complete');
    expect(detail.message).not.toContain('Rows to fix');
    const url = /^Report: (\S+)$/m.exec(detail.message)![1];
    const expires = Number(new URL(url).searchParams.get('X-Amz-Expires'));
    expect(expires).toBeLessThanOrEqual(2 * 3600 - 60);
    expect(expires).toBeGreaterThan(2 * 3600 - 120);
    // The message states the session's end (less the minute's margin), not 7 days.
    const stated = /^Link valid until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC$/m.exec(detail.message)![1];
    expect(stated).toBe(utcMinute(urlExpiry(url).toISOString()).replace(' UTC', ''));
    expect(Date.parse(`${stated.replace(' ', 'T')}:00Z`)).toBeLessThan(expiration.getTime());
    expect(Date.parse(`${stated.replace(' ', 'T')}:00Z`)).toBeGreaterThan(expiration.getTime() - 3 * 60_000);
    expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe('session-token');
  });

  it('temporary credentials without an expiration (Lambda’s AWS_* variables): 7 days asked, the message claims no more than the session', async () => {
    const lambdaLike = localS3Client(s3.endpoint, {
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET, sessionToken: 'lambda-session' },
    });
    const sent: PutEventsRequestEntry[] = [];
    const { handler } = finalizeWith(
      {
        putEvents: async (entries) => {
          sent.push(...entries);
          return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
        },
      },
      { sign: (bucket, key) => presignGet(lambdaLike, bucket, key) },
    );
    await handler(structuredClone(finished));
    const { message } = JSON.parse(sent[0].Detail!) as RunEventDetail;
    const url = /^Report: (\S+)$/m.exec(message)![1];
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(MAX_LINK_SECONDS));
    expect(message).toContain(
      `\nLinks valid until the signing role's session ends, ${utcMinute(urlExpiry(url).toISOString())} at the latest\n`,
    );
  });

  it('linkLifetime: min(7 days, the credentials’ end less a minute); unknown end of a session token is flagged', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const inHours = (h: number) => new Date(now.getTime() + h * 3600_000);
    expect(linkLifetime({}, now)).toEqual({ seconds: MAX_LINK_SECONDS, sessionBound: false });
    expect(linkLifetime({ sessionToken: 't' }, now)).toEqual({ seconds: MAX_LINK_SECONDS, sessionBound: true });
    expect(linkLifetime({ sessionToken: 't', expiration: inHours(6) }, now)).toEqual({ seconds: 6 * 3600 - 60, sessionBound: false });
    expect(linkLifetime({ sessionToken: 't', expiration: inHours(36) }, now)).toEqual({ seconds: 36 * 3600 - 60, sessionBound: false });
    expect(linkLifetime({ sessionToken: 't', expiration: inHours(24 * 30) }, now)).toEqual({
      seconds: MAX_LINK_SECONDS,
      sessionBound: false,
    });
    expect(linkLifetime({ sessionToken: 't', expiration: inHours(0) }, now).seconds).toBe(1);
  });

  it('a publish that fails (refused entry or an error) is logged at ERROR and finalize still returns the summary', async () => {
    for (const events of [
      { putEvents: async () => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: `no ${HOOK}` }] }) },
      {
        putEvents: async () => {
          throw new Error(`connect ETIMEDOUT (${HOOK})`);
        },
      },
    ] as EventPublisher[]) {
      const { handler, lines } = finalizeWith(events);
      const summary = await handler(structuredClone(finished));
      expect(summary.rows).toBe(3);
      const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toMatch(/could not publish the run end event/);
      expect(lines.join('\n')).not.toContain('s3cr3tc0de');
    }
  });

  it('with a topic, the same message text is mailed (SNS Publish): subject ASCII under 100 characters, run attributes', async () => {
    const sent: PutEventsRequestEntry[] = [];
    const mailed: PublishInput[] = [];
    const odd = await chunked('Лиды – café ünïcödé «juin» 2026 with a rather long file name that goes on and on.csv', 'ID,TITLE\n1,Ann\n');
    const { handler } = finalizeWith(
      {
        putEvents: async (entries) => {
          sent.push(...entries);
          return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
        },
      },
      { mail: { topicArn: TOPIC, sns: recorder(mailed) } },
    );
    const summary = await handler(odd);
    expect(mailed).toHaveLength(1);
    const [mail] = mailed;
    const detail = JSON.parse(sent[0].Detail!) as RunEventDetail;
    expect(mail.TopicArn).toBe(TOPIC);
    expect(mail.Message).toBe(detail.message); // byte for byte: real newlines, no quotes around it
    expect(mail.Message.startsWith('b24-lead-import: dry run of s3://leads/incoming/Лиды')).toBe(true);
    expect(mail.Message).toContain('\nRows: 1');
    expect(mail.Message).not.toContain('\\n');
    expect(mail.Subject.startsWith('b24-lead-import: dry run of ? - cafe unicode ?juin? 2026 with a rather long')).toBe(true);
    expect(mail.Subject).toMatch(/^[\x20-\x7e]{1,99}$/);
    expect(mail.Subject.length).toBe(MAX_SUBJECT_CHARS);
    expect(mail.Subject.endsWith('... - complete')).toBe(true);
    expect(mail.MessageAttributes).toEqual({
      runId: { DataType: 'String', StringValue: summary.runId },
      result: { DataType: 'String', StringValue: 'complete' },
    });
  });

  it('a short file name stays whole in the subject; a mail that fails is a WARN line and finalize still returns', async () => {
    const lines: string[] = [];
    const handler = createFinalizeHandler({
      env: readEnv(FinalizeEnvSchema, { BUCKET: 'leads' }),
      store: () => store,
      log: createLogger({ service: 't', level: 'INFO', write: (l) => void lines.push(l) }),
      mail: {
        topicArn: TOPIC,
        sns: {
          publish: async (input) => {
            expect(input.Subject).toBe('b24-lead-import: dry run of june leads.csv - incomplete');
            throw new Error(`AuthorizationError (${HOOK})`);
          },
        },
      },
      sign: (bucket, key) => presignGet(s3.client, bucket, key),
    });
    const summary = await handler(structuredClone(finished));
    expect(summary.rows).toBe(3);
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.filter((l) => l.level === 'ERROR')).toEqual([]);
    expect(logged.filter((l) => l.level === 'WARN').map((l) => l.message)).toEqual([
      'could not mail the run end message (the run is finalized, its reports are written)',
    ]);
    expect(lines.join('\n')).not.toContain('s3cr3tc0de');
  });

  it('links that cannot be signed leave the message with the folder only; it still goes out', async () => {
    const mailed: PublishInput[] = [];
    const lines: string[] = [];
    const handler = createFinalizeHandler({
      env: readEnv(FinalizeEnvSchema, { BUCKET: 'leads' }),
      store: () => store,
      log: createLogger({ service: 't', level: 'INFO', write: (l) => void lines.push(l) }),
      mail: { topicArn: TOPIC, sns: recorder(mailed) },
      sign: async () => {
        throw new Error('CredentialsProviderError: could not load credentials');
      },
    });
    const summary = await handler(structuredClone(finished));
    expect(mailed[0].Message).toBe(runMessage(summary, { folder: 's3://leads/reports/june leads.csv/run1/' }));
    expect(lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'WARN')).toHaveLength(1);
  });
});
