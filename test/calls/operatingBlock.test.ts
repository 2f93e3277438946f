import { describe, expect, it } from 'vitest';
import { batchAnswer, batchCommands, type FakeCall, fakeSetup, row } from '../support/bitrix.ts';

/**
 * Under nested billing (REC: b24phpsdk OperatingTimingTest.php, 2023 cloud) the `batch` envelope reports
 * `operating: 0` and `operating_reset_at` = start + 600, and a command refused with OPERATION_TIME_LIMIT has no
 * result_time entry (SRV CRestServer::processResponse). The block is on the command's method only.
 */
const LIMIT = { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit.' };

function envelope(nowMs: number): Record<string, unknown> {
  const start = Math.floor(nowMs / 1000);
  return { start, finish: nowMs / 1000 + 0.02, duration: 0.5, processing: 0, operating: 0, operating_reset_at: start + 600 };
}

function nested(nowMs: number, operating: number, resetAt: number): Record<string, unknown> {
  const start = Math.floor(nowMs / 1000);
  return { start, finish: nowMs / 1000 + 0.01, duration: 0.4, processing: 0, operating, operating_reset_at: resetAt };
}

describe('a per-command OPERATION_TIME_LIMIT blocks that method only', () => {
  it("the refused rows go again after the method's own reset (its last result_time), not the envelope's", async () => {
    let t0 = 0;
    let methodReset = 0;
    const { sender, calls } = fakeSetup((call: FakeCall, n) => {
      const keys = [...batchCommands(call).keys()];
      if (n === 1) {
        t0 = call.at;
        methodReset = Math.floor(t0 / 1000) + 40;
        const times = Object.fromEntries(keys.map((k) => [k, nested(call.at, 470, methodReset)]));
        return { body: batchAnswer(keys, { times, time: envelope(call.at) }) };
      }
      if (n === 2) return { body: batchAnswer(keys, { errors: Object.fromEntries(keys.map((k) => [k, LIMIT])), time: envelope(call.at) }) };
      const times = Object.fromEntries(keys.map((k) => [k, nested(call.at, 10, Math.floor(call.at / 1000) + 600)]));
      return { body: batchAnswer(keys, { times, time: envelope(call.at) }) };
    });
    const first = await sender.send([row(2, 1, { TITLE: 'a' })], Infinity);
    expect(first[0].status).toBe('updated');
    const out = await sender.send([row(3, 2, { TITLE: 'b' }), row(4, 3, { TITLE: 'c' })], Infinity);
    expect(out.map((o) => [o.status, o.attempts])).toEqual([
      ['updated', 1],
      ['updated', 1],
    ]);
    // after the block, one command goes alone as a probe (the block says nothing about the room left), then the other
    expect(calls).toHaveLength(4);
    expect([...batchCommands(calls[2]).keys()]).toHaveLength(1);
    // (the portal-clock estimate may be off by the fake portal's tens of ms)
    expect(calls[2].at).toBeGreaterThanOrEqual(methodReset * 1000 + 1000 - 100);
    // the envelope's reset (start + 600) says nothing about crm.lead.update
    expect(calls[2].at).toBeLessThan(t0 + 300_000);
  });

  it('while crm.lead.update is blocked, reads of crm.lead.list go on at once', async () => {
    const { sender, client, calls, clock } = fakeSetup((call) => {
      const cmds = batchCommands(call);
      const keys = [...cmds.keys()];
      const refused = keys.filter((k) => cmds.get(k)?.method === 'crm.lead.update');
      return { body: batchAnswer(keys, { errors: Object.fromEntries(refused.map((k) => [k, LIMIT])), time: envelope(call.at) }) };
    });
    const started = Date.now();
    const out = await sender.send([row(2, 1, { TITLE: 'a' })], clock.now() + 5_000);
    // refused by a limit, not failed: deferred to a later chunk
    expect(out[0]).toMatchObject({ status: 'skipped', errorCode: 'DEFERRED' });
    const before = calls.length;
    const r = await client.batch({ l0: 'crm.lead.list?filter%5B%40ID%5D%5B0%5D=1' }, { deadline: clock.now() + 5_000 });
    expect(r.result.l0).toBe(true);
    expect(calls).toHaveLength(before + 1);
    expect(client.throttle.waitFor([{ method: 'batch', units: 1 }])).toBeLessThan(5_000);
    // no result_time was ever seen for crm.lead.update: blocked for an estimate, at least a bucket (60 s)
    expect(client.throttle.waitFor([{ method: 'crm.lead.update', units: 1 }])).toBeGreaterThan(55_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
