import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../harness/sandbox/faults.ts';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../harness/sandbox/portal.ts';
import { callJson, get } from '../../support/sandbox.ts';

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function start(o: SandboxOptions): Promise<Sandbox> {
  const sb = await startSandbox({ burst: 1000, rate: 1000, ...o });
  open.push(sb);
  return sb;
}

/** POST that reports a dropped connection as status -1 instead of throwing. */
function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', () => resolve({ status: -1, text: '' }));
    req.end(JSON.stringify(body));
  });
}

/** Sends `n` updates one after another; returns the status sequence. */
async function run(sb: Sandbox, id: number, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await post(`${sb.webhookUrl}crm.lead.update.json`, { id, fields: { NAME: `n${i}` } })).status);
  return out;
}

describe('sandbox: fault injection', () => {
  it('mulberry32 is deterministic per seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('injects 500 INTERNAL_SERVER_ERROR without applying, the same way for the same seed', async () => {
    const a = await start({ seed: 9, faults: { internalError: 0.4 } });
    const b = await start({ seed: 9, faults: { internalError: 0.4 } });
    const [ia] = a.seedLeads([{}]);
    const [ib] = b.seedLeads([{}]);
    const sa = await run(a, ia, 30);
    const sb = await run(b, ib, 30);
    expect(sa).toEqual(sb);
    const failures = sa.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(27);
    expect(a.ledger()).toHaveLength(30 - failures);
    expect(a.stats().faults.internalError).toBe(failures);
    a.setFaults({ internalError: 1 });
    const body = await post(`${a.webhookUrl}crm.lead.update.json`, { id: ia, fields: {} });
    expect(body.status).toBe(500);
    expect(JSON.parse(body.text)).toEqual({ error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' });
  });

  it('injects 502 with an HTML body, nothing applied', async () => {
    const sb = await start({ seed: 3, faults: { badGateway: 1 } });
    const [id] = sb.seedLeads([{}]);
    const res = await get(`${sb.webhookUrl}crm.lead.update?id=${id}&fields[NAME]=x`);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('502 Bad Gateway');
    expect(sb.ledger()).toHaveLength(0);
    sb.setFaults({});
    expect((await get(`${sb.webhookUrl}crm.lead.update?id=${id}&fields[NAME]=x`)).status).toBe(200);
  });

  it('resets the connection after applying the write', async () => {
    const sb = await start({ seed: 5, faults: { resetAfterApply: 1 } });
    const [id] = sb.seedLeads([{ PHONE: [] }]);
    const res = await post(`${sb.webhookUrl}crm.lead.update.json`, { id, fields: { PHONE: [{ VALUE: '+1' }] } });
    expect(res.status).toBe(-1);
    expect(sb.lead(id)!.PHONE!.map((p) => p.VALUE)).toEqual(['+1']);
    expect(sb.ledger()).toHaveLength(1);
    expect(sb.stats().faults.resetAfterApply).toBe(1);
  });

  it('decides faults per request in arrival order, deterministically, whatever kind', async () => {
    const faults = { internalError: 0.2, badGateway: 0.2, resetAfterApply: 0.2 };
    const a = await start({ seed: 1234, faults });
    const b = await start({ seed: 1234, faults });
    const c = await start({ seed: 999, faults });
    const [ia] = a.seedLeads([{}]);
    const [ib] = b.seedLeads([{}]);
    const [ic] = c.seedLeads([{}]);
    const sa = await run(a, ia, 40);
    expect(await run(b, ib, 40)).toEqual(sa);
    expect(await run(c, ic, 40)).not.toEqual(sa);
    expect(new Set(sa)).toEqual(new Set([200, 500, 502, -1]));
    expect(a.ledger()).toHaveLength(sa.filter((s) => s === 200 || s === -1).length);
  });

  it('answers slowly when the slow fault hits', async () => {
    const sb = await start({ seed: 1, faults: { slow: 1, slowMs: 80 } });
    const t0 = performance.now();
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    expect(sb.stats().faults.slow).toBe(1);
  });

  it('OVERLOAD_LIMIT: a manual block switched by API or after N requests', async () => {
    const sb = await start({ faults: { overloadAfter: 2 } });
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
    const blocked = await callJson(sb, 'crm.lead.fields');
    expect(blocked.status).toBe(503);
    expect(blocked.body.error).toBe('OVERLOAD_LIMIT');
    sb.setFaults({});
    sb.setOverload(false);
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
    sb.setOverload(true);
    expect((await callJson(sb, 'crm.lead.fields')).body.error).toBe('OVERLOAD_LIMIT');
  });
});

describe('sandbox: moved portal', () => {
  it('answers requests under a moved prefix with 302 to the new URL, and the re-POST works there', async () => {
    const sb = await start({ movedPrefix: '/moved' });
    const [id] = sb.seedLeads([{}]);
    const oldUrl = sb.webhookUrl.replace(sb.url, `${sb.url}/moved`);
    const res = await fetch(`${oldUrl}crm.lead.update.json?x=1`, { method: 'POST', redirect: 'manual', body: '{}' });
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location).toBe(`${sb.webhookUrl}crm.lead.update.json?x=1`);
    const again = await post(location, { id, fields: { NAME: 'moved' } });
    expect(again.status).toBe(200);
    expect(sb.lead(id)!.NAME).toBe('moved');
  });

  it('an old-host sandbox redirects every REST call to the new host', async () => {
    const target = await start({ code: 'c0de' });
    const old = await start({ code: 'c0de', redirectTo: target.url });
    const res = await fetch(`${old.webhookUrl}crm.lead.fields`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${target.webhookUrl}crm.lead.fields`);
  });
});
