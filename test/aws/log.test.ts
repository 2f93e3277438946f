import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createLogger, errorFields } from '../../lambda/aws/log.ts';
import { PortalError } from '../../lambda/errors.ts';

const HOOK = 'https://acme.bitrix24.com/rest/7/s3cr3tc0de/';
const CONTEXT = {
  awsRequestId: 'req-1',
  functionName: 'b24-chunk',
  memoryLimitInMB: '1024',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:b24-chunk',
} as Context;

function capture(level: 'DEBUG' | 'INFO' = 'INFO') {
  const lines: string[] = [];
  const log = createLogger({ service: 'b24-lead-import', level, write: (l) => void lines.push(l) });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('Lambda logs (Powertools Logger, our redaction as its formatter)', () => {
  it('an error whose message holds the webhook URL is logged with its stack and the host only', () => {
    const { log, lines, parsed } = capture();
    const err = new PortalError('HTTP_500', `POST ${HOOK}crm.lead.update failed`, 500);
    log.child({ runId: 'run-1' }).error('chunk failed', { offset: 10, ...errorFields(err) });
    expect(lines.join('\n')).not.toContain('s3cr3tc0de');
    const [line] = parsed();
    const error = line.error as Record<string, string>;
    expect(error).toMatchObject({ name: 'PortalError', code: 'HTTP_500' });
    expect(error.message).toBe('HTTP_500: POST https://acme.bitrix24.com/rest/7/***/crm.lead.update failed (HTTP 500)');
    // The stack is kept: its first line is the redacted message, then the frames (this test file among them).
    expect(error.stack.split('\n')[0]).toBe(`PortalError: ${error.message}`);
    expect(error.stack).toMatch(/log\.test\.ts:\d+/);
    expect(line).toMatchObject({ level: 'ERROR', message: 'chunk failed', service: 'b24-lead-import', runId: 'run-1', offset: 10 });
  });

  it('an Error passed as is, a secret-named key, a nested URL and the message itself are masked', () => {
    const { log, lines, parsed } = capture();
    log.warn(`retrying ${HOOK}batch`, {
      webhookUrl: HOOK,
      nested: { url: `${HOOK}batch`, list: [`${HOOK}x`] },
      cause: new Error(`ECONNRESET ${HOOK}`),
    });
    expect(lines.join('\n')).not.toContain('s3cr3tc0de');
    const [line] = parsed();
    expect(line.message).toBe('retrying https://acme.bitrix24.com/rest/7/***/batch');
    expect(line.webhookUrl).toBe('***');
    expect(line.nested).toEqual({ url: 'https://acme.bitrix24.com/rest/7/***/batch', list: ['https://acme.bitrix24.com/rest/7/***/x'] });
    expect((line.cause as Record<string, string>).stack).toContain('ECONNRESET https://acme.bitrix24.com/rest/7/***/');
  });

  it('runId is a persistent key of the child; the Lambda context adds the request id and cold start to every line', () => {
    const { log, parsed } = capture('DEBUG');
    log.addContext(CONTEXT);
    const run = log.child({ runId: 'run-2' });
    run.debug('chunk start', { offset: 0 });
    run.info('chunk done', { rows: 5 });
    log.info('no run');
    const lines = parsed();
    expect(lines.map((l) => l.runId)).toEqual(['run-2', 'run-2', undefined]);
    for (const l of lines) {
      expect(l).toMatchObject({ function_request_id: 'req-1', function_name: 'b24-chunk' });
      expect(typeof l.cold_start).toBe('boolean');
    }
    expect(lines[1]).toMatchObject({ level: 'INFO', message: 'chunk done', rows: 5 });
  });

  it('the level filters: SILENT writes nothing, WARN drops INFO', () => {
    createLogger({ service: 's', level: 'SILENT', write: () => expect.unreachable() }).error('never');
    const { log, parsed } = capture();
    const warnOnly = createLogger({ service: 's', level: 'WARN', write: (l) => void lines.push(l) });
    const lines: string[] = [];
    warnOnly.info('dropped');
    warnOnly.child({ runId: 'r' }).warn(`to ${HOOK}`);
    log.debug('dropped too');
    expect(parsed()).toEqual([]);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'to https://acme.bitrix24.com/rest/7/***/', runId: 'r', service: 's' }),
    ]);
  });
});
