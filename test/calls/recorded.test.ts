import { describe, expect, it } from 'vitest';
import { rowCode } from '../../lambda/calls/sender.ts';
import { batchAnswer, batchCommands, type FakeAnswer, fakeSetup, row } from '../support/bitrix.ts';
import { batchEmptyMaps } from './fixtures/batchEmptyMaps.ts';
import { batchMixed } from './fixtures/batchMixed.ts';
import { batchOfTwoErrors } from './fixtures/batchOfTwoErrors.ts';
import { leadNotFound } from './fixtures/leadNotFound.ts';
import { nginx502 } from './fixtures/nginx502.ts';
import { operatingLimitPerCommand } from './fixtures/operatingLimitPerCommand.ts';
import type { Fixture } from './fixtures/types.ts';
import { wholeSecondTime } from './fixtures/wholeSecondTime.ts';

/**
 * Answer shapes recorded from real portals (each fixture names its source), fed to the client and the sender
 * through a fake fetch: what each makes of them — the row's outcome, the wait, the halt.
 */

const answerOf = (f: Fixture): FakeAnswer => ({ status: f.status, body: f.body, text: f.text });

/**
 * The same answer with the recording's command keys renamed to ours (`r<line>`): a PHP list's keys are its
 * positions "0", "1"…; the shape (list or map, `[]` for empty) is kept for the maps that are not renamed.
 */
function rekey(f: Fixture, keys: Record<string, string>): Fixture {
  const body = structuredClone(f.body) as { result: Record<string, unknown> };
  for (const part of ['result', 'result_error', 'result_time']) {
    const v = body.result[part];
    if (!v || typeof v !== 'object') continue;
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    if (entries.length === 0) continue;
    body.result[part] = Object.fromEntries(entries.map(([k, x]) => [keys[k] ?? k, x]));
  }
  return { ...f, body };
}

const ok = (call: Parameters<typeof batchCommands>[0]): FakeAnswer => ({ body: batchAnswer(batchCommands(call).keys()) });

describe('recorded: batch with errors only, maps printed as JSON lists', () => {
  it(`the client maps list positions back to the cmd keys (${batchOfTwoErrors.source})`, async () => {
    const { client } = fakeSetup(() => answerOf(batchOfTwoErrors));
    const r = await client.batch({ 0: 'crm.lead.get?id=0', 1: 'crm.lead.get?id=999999' });
    expect(r.result).toEqual({});
    expect(r.errors['0']).toEqual({ error: '', error_description: 'ID is not defined or invalid.' });
    expect(rowCode(r.errors['0'].error, r.errors['0'].error_description)).toBe('INVALID_ID');
    expect(rowCode(r.errors['1'].error, r.errors['1'].error_description)).toBe('NOT_FOUND');
  });

  it('with our keys: each row fails with its own code; no halt, no retry', async () => {
    const { sender, calls } = fakeSetup(() => answerOf(rekey(batchOfTwoErrors, { 0: 'r2', 1: 'r3' })));
    const out = await sender.send([row(2, 1, { TITLE: 'a' }), row(3, 999999, { TITLE: 'b' })], Infinity);
    expect(out.map((o) => [o.status, o.errorCode, o.message])).toEqual([
      ['failed', 'INVALID_ID', 'ID is not defined or invalid.'],
      ['failed', 'NOT_FOUND', 'Not found'],
    ]);
    expect(calls).toHaveLength(1);
  });
});

describe('recorded: successes and errors mixed, result a map and result_error a list', () => {
  it(`each row gets its own outcome, and the success's result_time is charged to its method (${batchMixed.source})`, async () => {
    const { sender, client } = fakeSetup(() => answerOf(rekey(batchMixed, { 35943: 'r2', 0: 'r3', 1: 'r4' })));
    const out = await sender.send([row(2, 35943, { TITLE: 'a' }), row(3, 0, { TITLE: 'b' }), row(4, 7, { TITLE: 'c' })], Infinity);
    expect(out.map((o) => [o.status, o.errorCode])).toEqual([
      ['updated', ''],
      ['failed', 'INVALID_ID'],
      ['failed', 'NOT_FOUND'],
    ]);
    expect(client.throttle.budget('crm.lead.update').reported.operating).toBeCloseTo(1.831, 3);
  });
});

describe('recorded: empty maps as [] and nested billing at operating 0', () => {
  it(`the row is applied; nothing is blocked (${batchEmptyMaps.source})`, async () => {
    const { sender, client } = fakeSetup(() => answerOf(rekey(batchEmptyMaps, { order0000000000: 'r2' })));
    const out = await sender.send([row(2, 58943, { TITLE: 'a' })], Infinity);
    expect(out[0]).toMatchObject({ status: 'updated', errorCode: '', attempts: 1 });
    expect(client.throttle.budget('crm.lead.update').reported).toEqual({ operating: 0, resetAt: 1729697289 * 1000 });
    expect(client.throttle.budget('crm.lead.update').wait(client.throttle.clock.portalNow(), 50)).toBe(0);
  });
});

describe('recorded: a per-command OPERATION_TIME_LIMIT with the envelope at operating 0', () => {
  it(`blocks the method (not batch) for an estimate, never until the envelope's start + 600; the row is re-sent (${operatingLimitPerCommand.source})`, async () => {
    const { sender, client, calls } = fakeSetup((call, n) =>
      n === 1 ? answerOf(rekey(operatingLimitPerCommand, { '592dcd1e-cd14-410f-bab5-76b3ede717dd': 'r2' })) : ok(call),
    );
    const out = await sender.send([row(2, 5, { COMMENTS: 'x' })], Infinity);
    expect(out[0]).toMatchObject({ status: 'updated', attempts: 1 });
    expect(calls).toHaveLength(2);
    const offset = client.throttle.clock.offsetMs;
    const resentAt = (calls[1].at + offset) / 1000;
    const refusedAt = 1681568278.097257;
    expect(resentAt).toBeGreaterThan(refusedAt + 60); // one bucket: nothing known about the method's reset
    expect(resentAt).toBeLessThan(1681568878); // the envelope's operating_reset_at is not the method's
    expect(client.stats().limitErrors.OPERATION_TIME_LIMIT).toBe(1);
    // the envelope was never blocked
    expect(client.throttle.budget('batch').reported.operating).toBe(0);
  });
});

describe('server-derived: whole-second time blocks', () => {
  it(`charges the growth of operating (0.7 s), not processing (0 then 1) (${wholeSecondTime[0].source})`, async () => {
    const { sender, client } = fakeSetup((_, n) => answerOf(wholeSecondTime[n - 1]));
    const out = await sender.send([row(2, 1, { TITLE: 'a' })], Infinity);
    const out2 = await sender.send([row(3, 2, { TITLE: 'b' })], Infinity);
    expect([out[0].status, out2[0].status]).toEqual(['updated', 'updated']);
    expect(client.stats().operatingSeconds).toBeCloseTo(0.7, 3);
    expect(client.throttle.budget('crm.lead.update').costPerCommand).toBeCloseTo(0.7, 3);
  });
});

describe('server-derived: "Lead is not found"', () => {
  it(`a direct call's HTTP 400 with error "" fails the row NOT_FOUND (${leadNotFound.source})`, async () => {
    const { sender } = fakeSetup(() => answerOf(leadNotFound));
    const out = await sender.send([row(2, 404, { TITLE: 'price $total' })], Infinity);
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND', message: 'Lead is not found' });
  });

  it('per command inside a batch: the row fails NOT_FOUND, the others apply', async () => {
    const { sender } = fakeSetup((call) => ({
      body: batchAnswer(batchCommands(call).keys(), { errors: { r3: leadNotFound.body } }),
    }));
    const out = await sender.send([row(2, 1, { TITLE: 'a' }), row(3, 404, { TITLE: 'b' })], Infinity);
    expect(out.map((o) => [o.status, o.errorCode])).toEqual([
      ['updated', ''],
      ['failed', 'NOT_FOUND'],
    ]);
  });
});

describe("the web server's HTML 5xx page", () => {
  it(`is transient: the rows go again in a smaller batch and apply (${nginx502.source})`, async () => {
    const { sender, calls } = fakeSetup((call, n) => (n === 1 ? answerOf(nginx502) : ok(call)));
    const out = await sender.send([row(2, 1, { TITLE: 'a' }), row(3, 2, { TITLE: 'b' }), row(4, 3, { TITLE: 'c' })], Infinity);
    expect(out.map((o) => o.status)).toEqual(['updated', 'updated', 'updated']);
    expect(Object.keys(calls[1].params.cmd as object).length).toBeLessThanOrEqual(2);
  });

  it('an appending row is not re-sent blindly after it: AMBIGUOUS_WRITE with code and no halt', async () => {
    const { sender } = fakeSetup(() => answerOf(nginx502));
    const out = await sender.send([row(2, 1, { PHONE: [{ VALUE: '+7900', VALUE_TYPE: 'WORK' }] })], Infinity);
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_WRITE' });
    expect(out[0].message).toMatch(/HTTP_502/);
  });
});
