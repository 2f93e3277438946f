import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, DEFAULT_MAX_BODY_BYTES } from '../../lambda/calls/client.ts';
import { createSender } from '../../lambda/calls/sender.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { TransientError } from '../../lambda/errors.ts';
import {
  batchAnswer,
  batchCommands,
  FAR,
  fakeClock,
  fakeFetch,
  type FakeAnswer,
  type FakeCall,
  fakeSetup,
  row,
} from '../support/bitrix.ts';

/**
 * Bounds on what a portal answer may cost us: a body is read as a stream and abandoned past the cap (a transient
 * failure: the work goes again in a smaller batch), and a malformed error object is classified like any error
 * instead of crashing the sender.
 */

const MiB = 1024 ** 2;
const options = parseRunOptions({ limits: { rate: 100, burst: 100, concurrency: 1 } });

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A loopback portal whose every answer is `total` bytes of JSON-ish text, streamed in 64 KiB writes. */
async function hugeAnswerServer(total: number, withLength: boolean): Promise<{ url: string; sent: () => number; closed: () => boolean }> {
  let sent = 0;
  let closed = false;
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', ...(withLength ? { 'content-length': String(total) } : {}) });
    res.on('close', () => {
      closed = true;
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (sent < total && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/rest/1/c4pc0de/`, sent: () => sent, closed: () => closed };
}

describe('the answer body is capped', () => {
  it('defaults to 64 MiB', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(64 * MiB);
  });

  for (const withLength of [false, true]) {
    it(`stops reading past the cap (${withLength ? 'with' : 'without'} content-length): a transient RESPONSE_TOO_LARGE`, async () => {
      const portal = await hugeAnswerServer(200 * MiB, withLength);
      const client = createClient({ webhookUrl: portal.url, limits: options.limits, maxBodyBytes: MiB, maxRetries: 0, localMode: true });
      const e = await client.call('profile').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TransientError);
      expect((e as TransientError).code).toBe('RESPONSE_TOO_LARGE');
      expect((e as Error).message).not.toContain('c4pc0de');
      // the connection was dropped long before the 200 MiB were written
      await new Promise((r) => setTimeout(r, 50));
      expect(portal.closed()).toBe(true);
      expect(portal.sent()).toBeLessThan(50 * MiB);
    });
  }

  it('an answer under the cap is read whole', async () => {
    const body = JSON.stringify({ result: 'x'.repeat(200_000) });
    const { fetch } = fakeFetch(() => ({ text: body }));
    const client = createClient({
      webhookUrl: 'https://acme.bitrix24.ru/rest/1/s3cretc0de/',
      limits: options.limits,
      fetch,
      maxBodyBytes: MiB,
    });
    expect(await client.call<string>('profile')).toHaveLength(200_000);
  });

  it('a batch whose answer is too large goes again in smaller batches (as after a 413)', async () => {
    const clock = fakeClock();
    const sizes: number[] = [];
    const big = (call: FakeCall): FakeAnswer => {
      const keys = [...batchCommands(call).keys()];
      sizes.push(keys.length);
      // the answer grows with the batch: over 1 MiB past 8 commands
      const pad = keys.length > 8 ? 'x'.repeat(2 * MiB) : '';
      return { body: { ...batchAnswer(keys), pad } };
    };
    const { fetch } = fakeFetch(big, clock.now);
    const client = createClient({
      webhookUrl: 'https://acme.bitrix24.ru/rest/1/s3cretc0de/',
      limits: options.limits,
      fetch,
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0.5,
      maxBodyBytes: MiB,
    });
    const sender = createSender({ api: client, options, now: clock.now, random: () => 0.5 });
    const out = await sender.send(
      Array.from({ length: 32 }, (_, i) => row(i + 2, 100 + i, { TITLE: `t${i}` })),
      FAR() + 1e12,
    );
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect(sizes[0]).toBe(32);
    expect(Math.min(...sizes)).toBeLessThanOrEqual(8);
  });
});

/** Error objects a JSON body can hold that String() cannot convert (or prints as [object Object]). */
const hostile = () => JSON.parse('{"toString":1,"valueOf":2}') as unknown;

describe('malformed error fields are coerced to strings and classified normally', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => row(i + 2, 100 + i, { TITLE: `t${i}` }));

  it('a whole answer: error_description an object without a usable toString fails the rows, no SENDER_ERROR', async () => {
    const { sender } = fakeSetup(() => ({ status: 400, body: { error: 'SOME_ERROR', error_description: hostile() } }));
    const out = await sender.send(rows(2), FAR() + 1e12);
    expect(out.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(out[0].errorCode).toBe('SOME_ERROR');
    expect(out[0].message).toContain('"toString":1');
  });

  it('a whole answer: error an object or a number is its JSON / digits', async () => {
    const { sender } = fakeSetup(() => ({ status: 400, body: { error: hostile(), error_description: 'd' } }));
    const out = await sender.send(rows(1), FAR() + 1e12);
    expect(out[0]).toMatchObject({ status: 'failed' });
    expect(out[0].errorCode).toContain('toString');
    const s2 = fakeSetup(() => ({ status: 400, body: { error: 42, error_description: ['a', 'b'] } }));
    const out2 = await s2.sender.send(rows(1), FAR() + 1e12);
    expect(out2[0]).toMatchObject({ status: 'failed', errorCode: '42' });
    expect(out2[0].message).toContain('["a","b"]');
  });

  it('an error code inside an object still classifies: {"error":"QUERY_LIMIT_EXCEEDED"} with a hostile description waits and goes again', async () => {
    let n = 0;
    const { sender } = fakeSetup((call) =>
      ++n === 1
        ? { status: 503, body: { error: 'QUERY_LIMIT_EXCEEDED', error_description: hostile() } }
        : { body: batchAnswer(batchCommands(call).keys()) },
    );
    const out = await sender.send(rows(3), FAR() + 1e12);
    expect(out.every((o) => o.status === 'updated')).toBe(true);
  });

  it('one command inside a batch: a hostile error object fails that row only', async () => {
    const { sender } = fakeSetup((call) => ({
      body: batchAnswer(batchCommands(call).keys(), { errors: { r3: { error: hostile(), error_description: hostile() } } }),
    }));
    const out = await sender.send(rows(2), FAR() + 1e12);
    expect(out[0].status).toBe('updated');
    expect(out[1].status).toBe('failed');
    expect(out[1].errorCode).toContain('toString');
  });

  it('a very long description is capped', async () => {
    const { sender } = fakeSetup(() => ({ status: 400, body: { error: 'X', error_description: { junk: 'y'.repeat(100_000) } } }));
    const out = await sender.send(rows(1), FAR() + 1e12);
    expect(out[0].status).toBe('failed');
    expect(out[0].message).toContain('{"junk":"yyy');
    expect(out[0].message.length).toBeLessThan(3000);
  });
});
