import { describe, expect, it } from 'vitest';
import { hasBatchReference } from '../../lambda/calls/send/item.ts';
import { batchAnswer, batchCommands, type FakeCall, fakeSetup, row } from '../support/bitrix.ts';

/**
 * Inside `batch` the server scans every value of every command (after URL-decoding) with
 * /\$(result|next|total|time|error)([^\s]*)/i and substitutes earlier results (SRV CRestUtil::processBatchElement):
 * percent-encoding does not protect such a value, so its row goes outside batch, as a direct crm.lead.update.
 */
const TITLE = 'Deal $result[r2] $Total $time';
const PHONE = '+7 900 $NEXT 1';

function answer(call: FakeCall) {
  if (call.method === 'batch') return { body: batchAnswer(batchCommands(call).keys()) };
  if (call.method === 'crm.lead.update') {
    if (call.params.id === 404) return { status: 400, body: { error: '', error_description: 'Lead is not found' } };
    const start = Math.floor(call.at / 1000);
    return {
      body: {
        result: true,
        time: { start, finish: call.at / 1000, duration: 0.3, processing: 0, operating: 1.2, operating_reset_at: start + 600 },
      },
    };
  }
  return { status: 404, body: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } };
}

describe('values the batch would substitute', () => {
  it('are recognised in any case, in any field or multifield value', () => {
    expect(hasBatchReference({ TITLE })).toBe(true);
    expect(hasBatchReference({ COMMENTS: 'price $TOTAL' })).toBe(true);
    expect(hasBatchReference({ PHONE: [{ VALUE: PHONE, VALUE_TYPE: 'WORK' }] })).toBe(true);
    expect(hasBatchReference({ COMMENTS: 'x $Error' })).toBe(true);
    expect(hasBatchReference({ TITLE: '$ 100, $results? no: US$ totals' })).toBe(true); // "$results" matches the server's pattern
    expect(hasBatchReference({ TITLE: 'costs $100', COMMENTS: 'result $ time' })).toBe(false);
  });

  it('such a row never travels inside batch: it arrives byte for byte in a direct crm.lead.update; the others still go in batches', async () => {
    const { sender, calls, client } = fakeSetup(answer);
    const rows = [
      row(2, 10, { TITLE: 'plain' }),
      row(3, 11, { TITLE }),
      row(4, 12, { PHONE: [{ VALUE: PHONE, VALUE_TYPE: 'WORK' }] }),
      row(5, 13, { TITLE: 'also plain', COMMENTS: 'costs $100' }),
    ];
    const out = await sender.send(rows, Infinity);
    expect(out.map((o) => [o.status, o.attempts])).toEqual([
      ['updated', 1],
      ['updated', 1],
      ['updated', 1],
      ['updated', 1],
    ]);
    const batches = calls.filter((c) => c.method === 'batch');
    expect(batches).toHaveLength(1);
    expect([...batchCommands(batches[0]).keys()]).toEqual(['r2', 'r5']);
    for (const b of batches) expect(b.body).not.toMatch(/\$(result|next|total|time|error)/i);
    const direct = calls.filter((c) => c.method === 'crm.lead.update');
    expect(direct).toHaveLength(2);
    expect(direct[0].url).toMatch(/\/rest\/1\/s3cretc0de\/crm\.lead\.update(\.json)?$/);
    expect(direct[0].params).toEqual({ id: 11, fields: { TITLE }, params: { REGISTER_SONET_EVENT: 'N' } });
    expect((direct[1].params.fields as { PHONE: { VALUE: string }[] }).PHONE[0].VALUE).toBe(PHONE);
    // paced and billed like any call: one request each, charged to crm.lead.update
    expect(client.stats().requests).toBe(3);
    expect(client.stats().writes).toBe(4);
    expect(client.throttle.budget('crm.lead.update').reported.operating).toBeCloseTo(1.2);
  });

  it('the direct call keeps the outcome rules: "Lead is not found" (HTTP 400) fails the row NOT_FOUND', async () => {
    const { sender } = fakeSetup(answer);
    const out = await sender.send([row(2, 404, { TITLE })], Infinity);
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND', message: 'Lead is not found' });
  });

  it('the direct call keeps the ambiguity rules: an appending row whose call timed out is AMBIGUOUS_WRITE (blind)', async () => {
    const { sender, calls } = fakeSetup((call) =>
      call.method === 'crm.lead.update' ? { throws: new DOMException('timeout', 'TimeoutError') } : answer(call),
    );
    const out = await sender.send([row(2, 1, { PHONE: [{ VALUE: PHONE, VALUE_TYPE: 'WORK' }] })], Infinity);
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_WRITE', attempts: 1 });
    expect(calls).toHaveLength(1);
  });
});
