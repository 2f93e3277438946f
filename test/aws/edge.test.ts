import { describe, expect, it } from 'vitest';
import { chunkDeadline, ChunkEnvSchema, envOptionDefaults, readEnv, StartEnvSchema } from '../../lambda/aws/env.ts';
import { describeCaught } from '../../lambda/aws/finalizeHandler.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { clearSecretCache, webhookUrl } from '../../lambda/aws/secret.ts';
import {
  decodeEventKey,
  executionNameFor,
  ignoreReason,
  reportPrefixFor,
  runOptionsFor,
  runVersionKey,
  startTargets,
} from '../../lambda/aws/startHandler.ts';
import { runIdFor } from '../../lambda/run/drive.ts';

const HOOK = 'https://acme.bitrix24.com/rest/1/s3cr3tc0de/';

describe('handler environment', () => {
  it('reads the stack contract with defaults and coerces numbers', () => {
    const env = readEnv(ChunkEnvSchema, { PORTAL_RATE: '5', PORTAL_BURST: '250', CHUNK_BUDGET_MS: '600000', LOG_LEVEL: 'debug' });
    expect(env).toMatchObject({
      PORTAL_RATE: 5,
      PORTAL_BURST: 250,
      CHUNK_BUDGET_MS: 600000,
      LOG_LEVEL: 'DEBUG',
      POWERTOOLS_SERVICE_NAME: 'b24-lead-import',
    });
    expect(envOptionDefaults(env)).toEqual({ limits: { rate: 5, burst: 250 } });
  });

  it('MAX_IDLE_CHUNKS: 12 chunks by default, a whole number ≥ 1 when set', () => {
    expect(readEnv(ChunkEnvSchema, {}).MAX_IDLE_CHUNKS).toBe(12);
    expect(readEnv(ChunkEnvSchema, { MAX_IDLE_CHUNKS: '4' }).MAX_IDLE_CHUNKS).toBe(4);
    for (const bad of ['0', '1.5', 'x']) expect(() => readEnv(ChunkEnvSchema, { MAX_IDLE_CHUNKS: bad })).toThrow(/MAX_IDLE_CHUNKS/);
  });

  it('OUTAGE_WAIT_MS sets the outage wait of S3-started runs; a manual payload may shorten it, never lengthen it', () => {
    const env = readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:x', OUTAGE_WAIT_MS: '600000' });
    expect(envOptionDefaults(env)).toEqual({ outageWaitMs: 600_000 });
    expect(runOptionsFor(env).outageWaitMs).toBe(600_000);
    expect(runOptionsFor(env, { options: { outageWaitMs: 60_000 } }).outageWaitMs).toBe(60_000);
    expect(runOptionsFor(env, { options: { outageWaitMs: 24 * 3600_000 } }).outageWaitMs).toBe(600_000);
    // Unset: the run option's default (6 hours); 0 is allowed (halt at the first outage), a fraction is not.
    expect(runOptionsFor(readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:x' })).outageWaitMs).toBe(6 * 3600_000);
    expect(readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:x', OUTAGE_WAIT_MS: '0' }).OUTAGE_WAIT_MS).toBe(0);
    expect(() => readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:x', OUTAGE_WAIT_MS: '1.5' })).toThrow(/OUTAGE_WAIT_MS/);
  });

  it('fails loudly naming a bad or missing variable', () => {
    expect(() => readEnv(ChunkEnvSchema, { PORTAL_RATE: 'fast' })).toThrow(/PORTAL_RATE/);
    expect(() => readEnv(StartEnvSchema, {})).toThrow(/STATE_MACHINE_ARN/);
  });

  it('the chunk stops at the smaller of its budget and the remaining time minus the margin, never before now', () => {
    const env = { CHUNK_BUDGET_MS: 600_000, CHUNK_MARGIN_MS: 30_000 };
    expect(chunkDeadline(1000, 900_000, env)).toBe(1000 + 600_000);
    expect(chunkDeadline(1000, 100_000, env)).toBe(1000 + 70_000);
    expect(chunkDeadline(1000, 10_000, env)).toBe(1000);
  });

  it('manual options override env defaults (limits merged), dryRun last, validated', () => {
    const env = readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:x', PORTAL_RATE: '5', PORTAL_BURST: '250' });
    const o = runOptionsFor(env, { dryRun: true, options: { limits: { burst: 100 }, sonet: 'Y' } });
    expect(o).toMatchObject({ dryRun: true, sonet: 'Y', limits: { rate: 5, burst: 100 } });
    expect(runOptionsFor(env).limits).toMatchObject({ rate: 5, burst: 250 });
    expect(() => runOptionsFor(env, { options: { multifield: 'append' } })).toThrow();
  });
});

describe('start event parsing', () => {
  it('decodes S3 event keys: + is a space, %XX is UTF-8', () => {
    expect(decodeEventKey('incoming/my+leads+%D0%BC%D0%B0%D0%B9%2B1.csv')).toBe('incoming/my leads май+1.csv');
  });

  it('takes ObjectCreated records only, and manual payloads as given', () => {
    const rec = (eventName: string, key: string) => ({
      eventName,
      s3: { bucket: { name: 'b' }, object: { key, eTag: 'e', versionId: 'v1' } },
    });
    const event = { Records: [rec('ObjectCreated:Put', 'incoming/a+b.csv'), rec('ObjectRemoved:Delete', 'incoming/c.csv')] };
    expect(startTargets(event as never)).toEqual([{ bucket: 'b', key: 'incoming/a b.csv', versionId: 'v1', etag: 'e' }]);
    expect(startTargets({ bucket: 'b', key: 'incoming/a+b.csv', dryRun: true })).toEqual([
      { bucket: 'b', key: 'incoming/a+b.csv', manual: { dryRun: true, options: undefined } },
    ]);
    expect(() => startTargets({} as never)).toThrow(/bucket/);
  });

  it('takes an optional runTag from a manual payload and refuses a malformed one', () => {
    expect(startTargets({ bucket: 'b', key: 'incoming/a.csv', runTag: 'retry-2' })).toEqual([
      { bucket: 'b', key: 'incoming/a.csv', manual: { dryRun: undefined, options: undefined, runTag: 'retry-2' } },
    ]);
    for (const bad of ['', 'a b', 'x'.repeat(65), 7]) {
      expect(() => startTargets({ bucket: 'b', key: 'incoming/a.csv', runTag: bad as never })).toThrow(/runTag/);
    }
  });

  it('run ids: a real run keeps the id of the version alone; a dry run and a tagged run each get their own', () => {
    const id = (dryRun: boolean, runTag?: string) =>
      runIdFor('b', 'incoming/a.csv', runVersionKey('v1', { dryRun, ...(runTag ? { runTag } : {}) }));
    expect(id(false)).toBe(runIdFor('b', 'incoming/a.csv', 'v1'));
    const ids = [id(false), id(true), id(false, 't1'), id(false, 't2'), id(true, 't1')];
    expect(new Set(ids).size).toBe(ids.length);
    // Deterministic, so a duplicate delivery maps to the same run.
    expect(id(true)).toBe(id(true));
    expect(id(false, 't1')).toBe(id(false, 't1'));
  });

  it('ignores keys outside incoming/ and keys neither .csv nor .xlsx; names reports and executions', () => {
    expect(ignoreReason('incoming/a.csv')).toBeUndefined();
    expect(ignoreReason('incoming/sub/A.CSV')).toBeUndefined();
    expect(ignoreReason('incoming/a.xlsx')).toBeUndefined();
    expect(ignoreReason('incoming/B.XLSX')).toBeUndefined();
    expect(ignoreReason('reports/a.csv')).toMatch(/outside/);
    expect(ignoreReason('incoming/a.xls')).toBe('not a .csv or .xlsx file');
    expect(ignoreReason('incoming/a.xlsx.tmp')).toBe('not a .csv or .xlsx file');
    expect(reportPrefixFor('incoming/2024/may.csv', 'abc')).toBe('reports/2024/may.csv/abc/');
    expect(executionNameFor('ab:c/d'.repeat(30))).toMatch(/^[A-Za-z0-9_-]{80}$/);
  });

  it("a source key so long that its report keys would pass S3's 1,024 bytes gets a shortened, deterministic, distinct prefix", () => {
    const runId = '0123456789abcdef';
    const long = (tail: string) => `incoming/${'д/'.repeat(250)}${'x'.repeat(240)}${tail}.csv`; // 1,004 bytes: a valid S3 key, too long for reports/…/<runId>/
    const a = reportPrefixFor(long('a'), runId);
    const b = reportPrefixFor(long('b'), runId);
    for (const name of ['report.csv', 'rejected.csv', 'summary.json', 'plan.csv']) {
      expect(Buffer.byteLength(`${a}${name}`)).toBeLessThanOrEqual(1024);
    }
    expect(a).toBe(reportPrefixFor(long('a'), runId));
    expect(a).not.toBe(b);
    expect(a).toMatch(/^reports\/д\/д\/.*~[0-9a-f]{16}\/0123456789abcdef\/$/);
    // Keys that fit keep the plain form.
    expect(reportPrefixFor(`incoming/${'x'.repeat(900)}.csv`, runId)).toBe(`reports/${'x'.repeat(900)}.csv/${runId}/`);
  });
});

describe('structured logger', () => {
  it('writes one JSON line per event with level, message, service, timestamp and runId', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'svc', level: 'INFO', write: (l) => lines.push(l), clock: () => new Date(0) }).child({
      runId: 'r1',
    });
    log.debug('hidden');
    log.info('chunk done', { rows: 3 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({
      level: 'INFO',
      message: 'chunk done',
      service: 'svc',
      timestamp: '1970-01-01T00:00:00.000Z',
      runId: 'r1',
      rows: 3,
    });
  });

  it('never writes a webhook URL or a secret-named value', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'svc', write: (l) => lines.push(l) });
    log.error(`call to ${HOOK}crm.lead.update failed`, {
      webhookUrl: HOOK,
      nested: { url: `${HOOK}batch` },
      error: new Error(`ECONNRESET ${HOOK}`),
    });
    expect(lines.join('\n')).not.toContain('s3cr3tc0de');
    expect(JSON.parse(lines[0]).message).toBe('call to https://acme.bitrix24.com/rest/1/***/crm.lead.update failed');
  });

  it('the caught chunk error becomes a code and message for the report, secrets masked', () => {
    expect(
      describeCaught({ Error: 'PortalError', Cause: JSON.stringify({ errorType: 'PortalError', errorMessage: `boom at ${HOOK}` }) }),
    ).toEqual({
      code: 'PortalError',
      message: 'boom at https://acme.bitrix24.com/rest/1/***/',
    });
    expect(describeCaught({ Error: 'States.Timeout' })).toEqual({ code: 'States.Timeout', message: 'States.Timeout' });
  });
});

describe('webhook secret', () => {
  it('is fetched once per container and accepts the URL or {"webhookUrl"}', async () => {
    clearSecretCache();
    let calls = 0;
    const reader = async () => {
      calls++;
      return JSON.stringify({ webhookUrl: HOOK });
    };
    expect(await webhookUrl('arn:1', reader)).toBe(HOOK);
    expect(await webhookUrl('arn:1', reader)).toBe(HOOK);
    expect(calls).toBe(1);
    expect(await webhookUrl('arn:2', async () => ` ${HOOK}\n`)).toBe(HOOK);
  });

  it('a failed fetch is retried next time; a wrong value is refused without echoing it', async () => {
    clearSecretCache();
    let calls = 0;
    const flaky = async () => {
      if (calls++ === 0) throw new Error('throttled');
      return HOOK;
    };
    await expect(webhookUrl('arn:3', flaky)).rejects.toThrow('throttled');
    expect(await webhookUrl('arn:3', flaky)).toBe(HOOK);
    const err = await webhookUrl('arn:4', async () => 'not-a-url-s3cr3tc0de').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/arn:4/);
    expect((err as Error).message).not.toContain('s3cr3tc0de');
  });
});
