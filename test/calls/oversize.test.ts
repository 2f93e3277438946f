import { describe, expect, it } from 'vitest';
import { createClient } from '../../lambda/calls/client.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { batchAnswer, batchCommands, type FakeAnswer, type FakeCall, fakeSetup, row } from '../support/bitrix.ts';

/**
 * There is no whole-request ERROR_BATCH_LENGTH_EXCEEDED on the real server (SRV methodsBatch): a body too large
 * or too slow fails at the web server (413, an HTML 5xx page, 504) or on our side (timeout). The next attempt
 * of that work goes out in a smaller batch.
 */
const NGINX_413 =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const NGINX_504 =
  '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const sizeOf = (c: FakeCall) => Object.keys((c.params.cmd ?? {}) as object).length;

function tooLargeOver(max: number, refusal: FakeAnswer) {
  return (call: FakeCall): FakeAnswer => (sizeOf(call) > max ? refusal : { body: batchAnswer(batchCommands(call).keys()) });
}

const timeout = (): FakeAnswer => ({ throws: new DOMException('The operation was aborted due to timeout', 'TimeoutError') });

const sets = (n: number) => Array.from({ length: n }, (_, i) => row(i + 2, 100 + i, { TITLE: `t${i}` }));

describe('a request too large or too slow: the next attempt goes in a smaller batch', () => {
  const refusals: [string, FakeAnswer][] = [
    ['HTTP 413 (HTML)', { status: 413, text: NGINX_413 }],
    ['HTTP 504 (HTML)', { status: 504, text: NGINX_504 }],
    ['HTTP 502 HTML page', { status: 502, text: '<html><body>Bad Gateway</body></html>' }],
    ['a client timeout', { throws: new DOMException('The operation was aborted due to timeout', 'TimeoutError') }],
  ];
  for (const [name, refusal] of refusals) {
    it(`${name}: rows that only set values are re-sent in halves until they fit, and all apply`, async () => {
      const { sender, calls } = fakeSetup(tooLargeOver(10, refusal));
      const out = await sender.send(sets(40), Infinity);
      expect(out.every((o) => o.status === 'updated')).toBe(true);
      // the same oversized body is never re-sent: a row refused in a batch of n next goes in one of n/2 or less
      const last = new Map<string, number>();
      for (const c of calls) {
        for (const key of batchCommands(c).keys()) {
          const before = last.get(key);
          if (before !== undefined) expect(sizeOf(c)).toBeLessThanOrEqual(Math.ceil(before / 2));
          last.set(key, sizeOf(c));
        }
      }
      expect(calls.filter((c) => sizeOf(c) <= 10).reduce((s, c) => s + sizeOf(c), 0)).toBe(40);
    });
  }

  it('halving is bounded: a row that fails alone is retried as a transient and then reported', async () => {
    const { sender, calls } = fakeSetup(() => ({ status: 413, text: NGINX_413 }));
    const out = await sender.send(sets(4), Infinity);
    expect(out.every((o) => o.status === 'failed' && o.errorCode === 'HTTP_413')).toBe(true);
    expect(calls.every((c) => sizeOf(c) >= 1)).toBe(true);
    // 4 → 2 → 1, then each row at most 1 + 4 sends (the sender's transient rule), never the client's retries on top
    expect(calls.length).toBeLessThanOrEqual(1 + 2 + 4 * 5);
  });

  it('an appending row keeps the safety rule: reported AMBIGUOUS_WRITE by the blind planner, not re-sent blindly', async () => {
    const { sender } = fakeSetup((call, n) => (n === 1 ? timeout() : { body: batchAnswer(batchCommands(call).keys()) }));
    const out = await sender.send([row(2, 1, { PHONE: [{ VALUE: '+7900', VALUE_TYPE: 'WORK' }] }), row(3, 2, { TITLE: 'x' })], Infinity);
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_WRITE' });
  });

  it('reads: client.batch splits a 413 read in halves and returns every result', async () => {
    const { client, calls } = fakeSetup(tooLargeOver(10, { status: 413, text: NGINX_413 }));
    const cmd = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, `crm.lead.list?filter%5B%40ID%5D%5B0%5D=${i}`]));
    const r = await client.batch(cmd);
    expect(Object.keys(r.result).sort()).toEqual(Object.keys(cmd).sort());
    expect(calls[1] && sizeOf(calls[1])).toBeLessThanOrEqual(20);
  });
});

describe('ERROR_BATCH_LENGTH_EXCEEDED per command inside HTTP 200 (our batch had more than 50 commands)', () => {
  it('the row is re-sent in a smaller batch and applies', async () => {
    const { sender, calls } = fakeSetup((call, n) => {
      const keys = [...batchCommands(call).keys()];
      const errors = n === 1 ? { r5: { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' } } : {};
      return { body: batchAnswer(keys, { errors }) };
    });
    const out = await sender.send(sets(4), Infinity);
    expect(out.map((o) => [o.status, o.attempts])).toEqual([
      ['updated', 1],
      ['updated', 1],
      ['updated', 1],
      ['updated', 1],
    ]);
    expect(calls).toHaveLength(2);
    expect(sizeOf(calls[1])).toBe(1);
  });
});

describe('the client timeout', () => {
  it('sits above the portal’s 60 s cap by default, so answers about to arrive are not cut', () => {
    const options = parseRunOptions({});
    const client = createClient({ webhookUrl: 'https://acme.bitrix24.ru/rest/1/abc123/', limits: options.limits });
    expect(client.timeoutMs).toBeGreaterThan(60_000);
    expect(client.timeoutMs).toBe(75_000);
  });
});
