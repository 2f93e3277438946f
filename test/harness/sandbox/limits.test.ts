import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callJson } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

/** A hand-driven sandbox clock, so limit tests are exact and need no sleeps. */
function clock(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number): void => {
      t += ms;
    },
  };
}

const upd = (id: number) => ({ id, fields: { NAME: 'x' } });

describe('sandbox: leaky bucket', () => {
  it('refuses past the burst with 503 QUERY_LIMIT_EXCEEDED and recovers at the drain rate', async () => {
    const c = clock();
    sb = await startSandbox({ rate: 2, burst: 3, now: c.now });
    for (let i = 0; i < 3; i++) expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
    const refused = await callJson(sb, 'crm.lead.fields');
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    c.advance(400); // 0.8 drained: still no room for one more
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(503);
    c.advance(100); // 1.0 drained
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(503);
    expect(sb.stats().refusals.QUERY_LIMIT_EXCEEDED).toBe(3);
  });

  it('counts a batch of 50 commands as one request', async () => {
    const c = clock();
    sb = await startSandbox({ rate: 1, burst: 2, now: c.now });
    const [id] = sb.seedLeads([{}]);
    const cmd = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`r${i}`, `crm.lead.update?id=${id}&fields[NAME]=n${i}`]));
    expect((await callJson(sb, 'batch', { cmd })).status).toBe(200);
    expect((await callJson(sb, 'batch', { cmd })).status).toBe(200);
    expect((await callJson(sb, 'batch', { cmd })).status).toBe(503);
    expect(sb.ledger()).toHaveLength(100);
  });

  it('works in real time on a compressed scale', async () => {
    sb = await startSandbox({ rate: 4, burst: 2 });
    // Three at once: the bucket holds two; the third arrives well inside one drain interval (250 ms).
    const first = await Promise.all([1, 2, 3].map(() => callJson(sb, 'crm.lead.fields')));
    expect(first.map((r) => r.status).sort()).toEqual([200, 200, 503]);
    await new Promise((r) => setTimeout(r, 300)); // the drain itself is the behaviour under test
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
  });
});

describe('sandbox: operating budget', () => {
  it('blocks a method with 429 after the call that crosses the limit, until its buckets expire', async () => {
    const c = clock();
    sb = await startSandbox({ operatingLimit: 1, operatingWindow: 10, costs: { 'crm.lead.update': 0.4 }, now: c.now });
    const [id] = sb.seedLeads([{}]);
    const start = c.now();
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await callJson(sb, 'crm.lead.update', upd(id));
      expect(res.status).toBe(200);
      seen.push(res.body.time.operating);
      expect(res.body.time.operating_reset_at).toBe(Math.ceil((start + 10_000) / 1000));
      c.advance(1500); // each call lands in its own 1 s bucket
    }
    expect(seen).toEqual([0.4, 0.8, 1.2]); // the third crossed the limit and still completed
    const blocked = await callJson(sb, 'crm.lead.update', upd(id));
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({ error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit' });
    expect(sb.ledger()).toHaveLength(3);
    // Other methods keep their own budget.
    expect((await callJson(sb, 'crm.lead.get', { id })).status).toBe(200);
    c.advance(start + 10_000 - c.now() - 1);
    expect((await callJson(sb, 'crm.lead.update', upd(id))).status).toBe(429);
    c.advance(1); // the oldest bucket (0.4) expires: 0.8 left, below the limit
    const after = await callJson(sb, 'crm.lead.update', upd(id));
    expect(after.status).toBe(200);
    expect(after.body.time.operating).toBe(1.2);
    // The oldest live bucket opened with the call at +1.5 s: its reset is that call + window, in whole seconds ((int)).
    expect(after.body.time.operating_reset_at).toBe(Math.floor((start + 11_500) / 1000));
  });

  it('refuses only over the limit: at exactly the limit the next call still runs (LoadLimiter::is: total > limit)', async () => {
    const c = clock();
    sb = await startSandbox({ operatingLimit: 0.8, operatingWindow: 10, costs: { 'crm.lead.update': 0.4 }, now: c.now });
    const [id] = sb.seedLeads([{}]);
    expect((await callJson(sb, 'crm.lead.update', upd(id))).body.time.operating).toBe(0.4);
    expect((await callJson(sb, 'crm.lead.update', upd(id))).body.time.operating).toBe(0.8);
    expect((await callJson(sb, 'crm.lead.update', upd(id))).body.time.operating).toBe(1.2);
    expect((await callJson(sb, 'crm.lead.update', upd(id))).status).toBe(429);
  });

  it("books a request into the bucket of its start, and a bucket drops out at its slot's boundary, not a window after its call", async () => {
    const c = clock(Date.UTC(2026, 0, 5, 9, 0, 0) + 700); // 0.7 s into a 1 s slot
    sb = await startSandbox({ operatingLimit: 1, operatingWindow: 10, costs: { 'crm.lead.update': 0.6 }, now: c.now });
    const [id] = sb.seedLeads([{}]);
    const slotStart = Date.UTC(2026, 0, 5, 9, 0, 0);
    const first = await callJson(sb, 'crm.lead.update', upd(id));
    expect(first.body.time.operating_reset_at).toBe(Math.floor((slotStart + 700 + 10_000) / 1000));
    expect((await callJson(sb, 'crm.lead.update', upd(id))).body.time.operating).toBe(1.2);
    c.advance(slotStart + 10_000 - c.now() - 1);
    expect((await callJson(sb, 'crm.lead.update', upd(id))).status).toBe(429);
    c.advance(1); // numBucket − 9 has passed the slot both calls were booked in: 10.0 s, not 10.7 s
    expect(sb.stats().operating).toEqual({});
    expect((await callJson(sb, 'crm.lead.update', upd(id))).body.time.operating).toBe(0.6);
  });

  it("keeps a request's window where it started: a bucket expiring while a batch runs still counts for its later commands", async () => {
    const c = clock(Date.UTC(2026, 0, 5, 9, 0, 0));
    // Each command moves the hand clock by its cost, as the server's own time passes.
    sb = await startSandbox({
      operatingLimit: 1,
      operatingWindow: 10,
      now: c.now,
      cost: (method) => {
        if (method !== 'crm.lead.update') return undefined;
        c.advance(400);
        return 0.4;
      },
    });
    const [id] = sb.seedLeads([{}]);
    await callJson(sb, 'crm.lead.update', upd(id)); // 0.4 s booked in the first slot
    c.advance(9_300); // 9.7 s: the first slot expires at 10 s
    const cmd = { a: `crm.lead.update?id=${id}&fields[NAME]=a`, b: `crm.lead.update?id=${id}&fields[NAME]=b` };
    const batch = await callJson(sb, 'batch', { cmd: { ...cmd, c: `crm.lead.update?id=${id}&fields[NAME]=c` } });
    // a runs at 9.7 s (0.4 booked), b at 10.1 s (0.4 + a), c at 10.5 s: the first slot is gone by then, but the
    // request's numBucket was fixed at 9.7 s, so c still sees 0.4 + 0.8 > 1 and is refused.
    expect(Object.keys(batch.body.result.result)).toEqual(['a', 'b']);
    expect(batch.body.result.result_error.c.error).toBe('OPERATION_TIME_LIMIT');
    expect(sb.stats().operating).toEqual({ 'crm.lead.update': 0.8 }); // a + b, booked at the end
  });

  it('books commands each under the minimal fix time as their sum when the request ends (LoadLimiter::finalize)', async () => {
    const c = clock();
    sb = await startSandbox({ costs: { 'crm.lead.update': 0.05 }, now: c.now });
    const [id] = sb.seedLeads([{}]);
    const cmd = Array.from({ length: 5 }, (_, i) => `crm.lead.update?id=${id}&fields[NAME]=n${i}`);
    const first = await callJson(sb, 'batch', { cmd: Object.fromEntries(cmd.map((t, i) => [`r${i}`, t])) });
    // Inside the request each call is under 0.1 s, so its own checks do not count them…
    expect(Object.values(first.body.result.result_time).map((t) => (t as { operating: number }).operating)).toEqual([0, 0, 0, 0, 0]);
    // …but its 0.25 s is booked when it ends.
    expect(sb.stats().operating).toEqual({ 'crm.lead.update': 0.25 });
    expect((await callJson(sb, 'crm.lead.update', upd(id))).body.time.operating).toBe(0.25);
  });

  it("books a batch's commands when the request ends: a request in flight is invisible to the others", async () => {
    sb = await startSandbox({ timeScale: 0.5, costs: { 'crm.lead.update': 0.4 } });
    const [id] = sb.seedLeads([{}]);
    const cmd = { a: `crm.lead.update?id=${id}&fields[NAME]=a`, b: `crm.lead.update?id=${id}&fields[NAME]=b` };
    const running = callJson(sb, 'batch', { cmd }); // a ends at 200 ms, b at 400 ms
    await new Promise((r) => setTimeout(r, 300)); // the request in flight is the behaviour under test
    expect(sb.lead(id)!.NAME).toBe('b');
    expect(sb.stats().operating).toEqual({});
    const done = await running;
    expect(done.body.result.result_time.b.operating).toBe(0.8); // its own later command saw the first
    expect(sb.stats().operating).toEqual({ 'crm.lead.update': 0.8 });
  });

  it("nested billing: each command is billed to its own method and a blocked method's commands fail in result_error", async () => {
    const c = clock();
    sb = await startSandbox({
      operatingLimit: 1,
      operatingWindow: 10,
      costs: { 'crm.lead.update': 0.4, 'crm.lead.get': 0.15 },
      now: c.now,
    });
    const [id] = sb.seedLeads([{}]);
    const cmd = {
      a: `crm.lead.update?id=${id}&fields[NAME]=a`,
      b: `crm.lead.update?id=${id}&fields[NAME]=b`,
      c: `crm.lead.update?id=${id}&fields[NAME]=c`,
      g: `crm.lead.get?id=${id}`,
    };
    const first = await callJson(sb, 'batch', { cmd });
    const t = first.body.result.result_time;
    expect([t.a.operating, t.b.operating, t.c.operating, t.g.operating]).toEqual([0.4, 0.8, 1.2, 0.15]);
    expect(first.body.time.operating).toBe(0); // the envelope itself is not billed…
    expect(first.body.time.operating_reset_at).toBe(first.body.time.start + 10); // …and its reset is start + window
    const second = await callJson(sb, 'batch', { cmd });
    expect(second.status).toBe(200);
    expect(second.body.result.result).toEqual({ g: expect.objectContaining({ ID: String(id) }) });
    expect(second.body.result.result_error.a).toEqual({
      error: 'OPERATION_TIME_LIMIT',
      error_description: 'Method is blocked due to operation time limit',
    });
    expect(Object.keys(second.body.result.result_error)).toEqual(['a', 'b', 'c']);
    expect(sb.ledger()).toHaveLength(3);
    // The block is the method's only: batch itself and other methods go on.
    expect((await callJson(sb, 'batch', { cmd: { g: `crm.lead.get?id=${id}` } })).body.result.result_error).toEqual([]);
    expect((await callJson(sb, 'crm.lead.update', upd(id))).status).toBe(429);
  });

  it('keeps operating per webhook (auth entity) and per method', async () => {
    const c = clock();
    sb = await startSandbox({ operatingLimit: 1, operatingWindow: 10, costs: { 'crm.lead.update': 0.6 }, webhooks: [{}], now: c.now });
    const [id] = sb.seedLeads([{}]);
    const [first, second] = sb.webhookUrls;
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers of the portal
    const post = async (base: string, method: string, body: unknown): Promise<any> => {
      const res = await fetch(`${base}${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return res.json();
    };
    expect((await post(first, 'crm.lead.update', upd(id))).time.operating).toBe(0.6);
    expect((await post(first, 'crm.lead.update', upd(id))).time.operating).toBe(1.2);
    expect((await post(first, 'crm.lead.update', upd(id))).error).toBe('OPERATION_TIME_LIMIT');
    expect((await post(second, 'crm.lead.update', upd(id))).time.operating).toBe(0.6);
    expect(sb.stats().operating).toEqual({ 'crm.lead.update': 1.8 });
    expect(sb.stats().operatingByWebhook).toEqual({ '1/0': { 'crm.lead.update': 1.2 }, '1/1': { 'crm.lead.update': 0.6 } });
  });

  it('books a call only when it is over 0.1 s (LoadLimiter minimal fix time)', async () => {
    const c = clock();
    sb = await startSandbox({ costs: { 'crm.lead.update': 0.1, 'crm.lead.get': 0.11 }, now: c.now });
    const [id] = sb.seedLeads([{}]);
    for (let i = 0; i < 3; i++) expect((await callJson(sb, 'crm.lead.update', upd(id))).body.time.operating).toBe(0);
    const batch = await callJson(sb, 'batch', { cmd: { a: `crm.lead.update?id=${id}&fields[NAME]=a`, g: `crm.lead.get?id=${id}` } });
    expect(batch.body.result.result_time.a.operating).toBe(0);
    expect(batch.body.result.result_time.g.operating).toBe(0.11);
    expect(sb.stats().operating).toEqual({ 'crm.lead.get': 0.11 });
  });

  it('prints start and processing as whole seconds, operating as a float; fractionalTime keeps the old fractions', async () => {
    const c = clock(Date.UTC(2026, 0, 5, 9, 0, 0) + 730);
    sb = await startSandbox({ costs: { 'crm.lead.get': 1.25 }, now: c.now });
    const [id] = sb.seedLeads([{}]);
    const t = (await callJson(sb, 'crm.lead.get', { id })).body.time;
    expect(t.start).toBe(Math.floor(c.now() / 1000));
    expect(t.processing).toBe(1);
    expect(t.finish).toBeCloseTo(c.now() / 1000 + 1.25, 6);
    expect(t.duration).toBeCloseTo(1.98, 6); // inflated by the whole-second start
    expect(t.operating).toBe(1.25);
    await sb.close();
    sb = await startSandbox({ costs: { 'crm.lead.get': 1.25 }, now: c.now, fractionalTime: true });
    const [id2] = sb.seedLeads([{}]);
    const old = (await callJson(sb, 'crm.lead.get', { id: id2 })).body.time;
    expect(old.start).toBe(c.now() / 1000);
    expect(old.processing).toBe(1.25);
    expect(old.duration).toBe(1.25);
  });

  it('envelope billing: the whole batch is billed to `batch`, every result_time shows the same cumulative figure', async () => {
    const c = clock();
    sb = await startSandbox({
      operatingLimit: 1,
      operatingWindow: 10,
      batchBilling: 'envelope',
      costs: { 'crm.lead.update': 0.4 },
      now: c.now,
    });
    const [id] = sb.seedLeads([{}]);
    const cmd = {
      a: `crm.lead.update?id=${id}&fields[NAME]=a`,
      b: `crm.lead.update?id=${id}&fields[NAME]=b`,
      c: `crm.lead.update?id=${id}&fields[NAME]=c`,
    };
    const first = await callJson(sb, 'batch', { cmd });
    const times = Object.values(first.body.result.result_time) as Array<{ operating: number }>;
    expect(times.map((x) => x.operating)).toEqual([1.2, 1.2, 1.2]);
    expect(first.body.time.operating).toBe(1.2);
    const direct = await callJson(sb, 'crm.lead.update', upd(id)); // the nested method itself was not billed
    expect(direct.body.time.operating).toBe(0.4);
    const second = await callJson(sb, 'batch', { cmd });
    expect(second.status).toBe(429);
    expect(second.body.error).toBe('OPERATION_TIME_LIMIT');
    c.advance(10_000);
    expect((await callJson(sb, 'batch', { cmd })).status).toBe(200);
  });

  it('with a request cap, commands past it do not run and the request ends in a 504', async () => {
    sb = await startSandbox({ requestCap: 1, costs: { 'crm.lead.update': 0.4 } });
    const [id] = sb.seedLeads([{}]);
    const cmd = Array.from({ length: 5 }, (_, i) => `crm.lead.update?id=${id}&fields[NAME]=n${i}`);
    const res = await callJson(sb, 'batch', { cmd });
    expect(res.status).toBe(504);
    expect(sb.ledger()).toHaveLength(2);
  });

  it('answers after the server time of its commands, one after another, scaled by timeScale', async () => {
    sb = await startSandbox({ timeScale: 0.1, costs: { 'crm.lead.get': 0.3 } });
    const [id] = sb.seedLeads([{}]);
    const t0 = performance.now();
    await callJson(sb, 'batch', { cmd: Array.from({ length: 5 }, () => `crm.lead.get?id=${id}`) });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145); // 5 × 0.3 s × 0.1
    const t1 = performance.now();
    await callJson(sb, 'crm.lead.get', { id });
    expect(performance.now() - t1).toBeGreaterThanOrEqual(28);
  });

  it('books the time when the call ends: a call in flight is invisible to operating', async () => {
    sb = await startSandbox({ timeScale: 0.2, costs: { 'crm.lead.update': 1, 'crm.lead.get': 0.2 } });
    const [id] = sb.seedLeads([{}]);
    const slow = callJson(sb, 'crm.lead.update', upd(id)); // 200 ms in flight
    await new Promise((r) => setTimeout(r, 50));
    expect(sb.stats().operating).toEqual({});
    expect(sb.lead(id)!.NAME).toBe('x'); // applied, not yet booked
    expect((await slow).body.time.operating).toBe(1);
    expect(sb.stats().operating).toEqual({ 'crm.lead.update': 1 });
  });

  it('adds the configured latency per request and per command', async () => {
    sb = await startSandbox({ latencyMs: { request: 30, command: 10 } });
    const [id] = sb.seedLeads([{}]);
    const t0 = performance.now();
    await callJson(sb, 'batch', { cmd: Array.from({ length: 5 }, () => `crm.lead.get?id=${id}`) });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
  });
});
