import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { FAR, row, setup } from '../../support/bitrix.ts';

// The sandbox listens on loopback over http: the client allows that only in the explicit local mode.
vi.stubEnv('B24_LOCAL_MODE', '1');

let sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  sandboxes = [];
});
async function start(o: Parameters<typeof startSandbox>[0]): Promise<Sandbox> {
  const s = await startSandbox(o);
  sandboxes.push(s);
  return s;
}

describe('retry classes', () => {
  it('503 QUERY_LIMIT_EXCEEDED: waits, slows down and succeeds', async () => {
    // The portal is stricter than the client was told: it must learn from the refusals.
    const sb = await start({ rate: 5, burst: 3, costs: { 'crm.lead.update': 0.001 } });
    const ids = sb.seedLeads(Array.from({ length: 300 }, () => ({ TITLE: 't' })));
    const { sender } = setup(sb.webhookUrl, { rate: 50, burst: 20 });
    const out = await sender.send(
      ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
      FAR(),
    );
    expect(out.every((o) => o.status === 'updated' && o.attempts === 1)).toBe(true);
    expect(sb.stats().refusals.QUERY_LIMIT_EXCEEDED).toBeGreaterThan(0);
    expect(sender.stats().limitErrors.QUERY_LIMIT_EXCEEDED).toBe(sb.stats().refusals.QUERY_LIMIT_EXCEEDED);
    expect(sb.ledger()).toHaveLength(300);
  });

  it('429 OPERATION_TIME_LIMIT on a compressed window: waits for the reset and goes on', async () => {
    // Budget 0.3 s per 3 s at 0.01 s per update = 30 updates per window; the client believes in a larger budget.
    // Every command's time is booked (the real LoadLimiter books only calls over 0.1 s: none of these would be).
    const sb = await start({
      rate: 20,
      burst: 10,
      operatingLimit: 0.3,
      operatingWindow: 3,
      operatingMinFix: 0,
      costs: { 'crm.lead.update': 0.01 },
    });
    const ids = sb.seedLeads(Array.from({ length: 80 }, () => ({ TITLE: 't' })));
    const { sender } = setup(sb.webhookUrl, { operatingLimit: 100, operatingWindow: 3 });
    const out = await sender.send(
      ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
      FAR(),
    );
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect(sb.ledger()).toHaveLength(80);
    expect(sender.stats().limitErrors.OPERATION_TIME_LIMIT).toBeGreaterThan(0);
    // waited for resets rather than hammering: a handful of refusals, not hundreds
    expect(sb.stats().refusals.OPERATION_TIME_LIMIT).toBeLessThan(100);
  }, 30_000);

  it('paces on the operating budget it is told about: no OPERATION_TIME_LIMIT at all', async () => {
    // Every command's time is booked (operatingMinFix 0), so there is a budget to pace on.
    const sb = await start({
      rate: 20,
      burst: 10,
      operatingLimit: 2,
      operatingWindow: 3,
      operatingMinFix: 0,
      costs: { 'crm.lead.update': 0.01 },
    });
    const ids = sb.seedLeads(Array.from({ length: 1200 }, () => ({ TITLE: 't' })));
    const { sender } = setup(sb.webhookUrl, { operatingLimit: 2, operatingWindow: 3 });
    const out = await sender.send(
      ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
      FAR(),
    );
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect(sb.stats().refusals.OPERATION_TIME_LIMIT ?? 0).toBe(0);
  }, 30_000);

  it('500 and 502 HTML answers are retried for rows that only set values', async () => {
    const sb = await start({ rate: 20, burst: 10, faults: { internalError: 0.25, badGateway: 0.25 }, seed: 3 });
    const ids = sb.seedLeads(Array.from({ length: 400 }, () => ({ TITLE: 't' })));
    const { sender } = setup(sb.webhookUrl);
    const out = await sender.send(
      ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
      FAR(),
    );
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect((sb.stats().faults.internalError ?? 0) + (sb.stats().faults.badGateway ?? 0)).toBeGreaterThan(0);
    expect(sender.stats().retries).toBeGreaterThan(0);
    for (const [i, id] of ids.entries()) expect(sb.lead(id)?.TITLE).toBe(`n${i}`);
  });

  it('302 from a renamed portal: re-POSTs the same body to the new location and remembers it', async () => {
    const code = 'movedc0de42';
    const sb = await start({ rate: 20, burst: 10, code });
    const old = await start({ rate: 20, burst: 10, code, redirectTo: sb.url });
    const ids = sb.seedLeads(Array.from({ length: 120 }, () => ({ TITLE: 't' })));
    const { sender, client, logs } = setup(old.webhookUrl);
    const out = await sender.send(
      ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
      FAR(),
    );
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect(old.stats().refusals.REDIRECT_302).toBe(1);
    expect(sb.ledger()).toHaveLength(120);
    expect(await client.call<{ TITLE: string }>('crm.lead.get', { id: ids[0] })).toMatchObject({ TITLE: 'n0' });
    expect(logs.join('\n')).not.toContain(code);
  });
});

describe('faults at 5%', () => {
  it('every row is reported, and no row is applied twice unless its outcome says it may have been', async () => {
    const sb = await start({
      rate: 20,
      burst: 10,
      costs: { 'crm.lead.update': 0.001 },
      faults: { internalError: 0.05, badGateway: 0.05, resetAfterApply: 0.05 },
      seed: 11,
    });
    const n = 600;
    const ids = sb.seedLeads(Array.from({ length: n }, () => ({ TITLE: 't' })));
    const rows = ids.map((id, i) =>
      row(i + 2, id, i % 3 === 0 ? { TITLE: `n${i}`, EMAIL: [{ VALUE: `a${i}@x.org`, VALUE_TYPE: 'WORK' }] } : { TITLE: `n${i}` }),
    );
    const { sender, logs, client } = setup(sb.webhookUrl);
    const out = await sender.send(rows, FAR());
    expect(out).toHaveLength(n);
    expect(out.map((o) => o.line)).toEqual(rows.map((r) => r.line));
    const applied = new Map<number, number>();
    for (const e of sb.ledger()) applied.set(e.id, (applied.get(e.id) ?? 0) + 1);
    expect(sb.stats().faults.resetAfterApply).toBeGreaterThan(0);
    let ambiguous = 0;
    out.forEach((o, i) => {
      const id = ids[i];
      const times = applied.get(id) ?? 0;
      const appends = i % 3 === 0;
      if (o.status === 'updated') {
        expect(times).toBeGreaterThanOrEqual(1);
        if (appends) expect(times).toBe(1);
        expect(sb.lead(id)?.TITLE).toBe(`n${i}`);
        expect(o.attempts).toBeGreaterThanOrEqual(times);
      } else {
        expect(o).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_WRITE' });
        expect(appends).toBe(true);
        expect(times).toBeLessThanOrEqual(o.attempts);
        ambiguous++;
      }
      if (appends) expect(sb.lead(id)?.EMAIL?.length ?? 0).toBe(times);
    });
    expect(ambiguous).toBeGreaterThan(0);
    // The secret code never shows up anywhere we produce.
    const code = /\/rest\/\d+\/([^/]+)\//.exec(sb.webhookUrl)![1];
    expect(JSON.stringify([out, logs, sender.stats(), client.host])).not.toContain(code);
  }, 60_000);
});

describe('clock skew', () => {
  for (const skew of [3_600_000, -3_600_000]) {
    it(`portal clock ${skew > 0 ? 'ahead' : 'behind'} by 1 h: 429 waits stay short, pacing still holds`, async () => {
      const now = () => Date.now() + skew;
      // operatingMinFix 0: every command's time is booked, so there are budgets to trip and to pace on.
      const strict = await start({
        rate: 20,
        burst: 10,
        operatingLimit: 0.3,
        operatingWindow: 3,
        operatingMinFix: 0,
        costs: { 'crm.lead.update': 0.01 },
        // a moving clock of the test's own: its `finish` is the real end (timeScale > 0), as a portal's is
        timeScale: 0.001,
        now,
      });
      const ids = strict.seedLeads(Array.from({ length: 70 }, () => ({ TITLE: 't' })));
      const t0 = Date.now();
      const tripped = setup(strict.webhookUrl, { operatingLimit: 100, operatingWindow: 3 });
      const out = await tripped.sender.send(
        ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
        FAR(),
      );
      expect(out.every((o) => o.status === 'updated')).toBe(true);
      expect(Date.now() - t0).toBeLessThan(25_000);
      // Refusals are counted per command (up to 20 of a 50-command batch per block), so how many depends on how
      // batches straddle the 3 s window; a client that misread the skewed reset time would retry at once and
      // collect thousands in this time. Fewer than one refusal per row proves it waited for each reset.
      expect(strict.stats().refusals.OPERATION_TIME_LIMIT ?? 0).toBeLessThan(70);

      const paced = await start({
        rate: 20,
        burst: 10,
        operatingLimit: 2,
        operatingWindow: 3,
        operatingMinFix: 0,
        costs: { 'crm.lead.update': 0.01 },
        // a moving clock of the test's own: its `finish` is the real end (timeScale > 0), as a portal's is
        timeScale: 0.001,
        now,
      });
      const ids2 = paced.seedLeads(Array.from({ length: 900 }, () => ({ TITLE: 't' })));
      const { sender } = setup(paced.webhookUrl, { operatingLimit: 2, operatingWindow: 3 });
      const out2 = await sender.send(
        ids2.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
        FAR(),
      );
      expect(out2.every((o) => o.status === 'updated')).toBe(true);
      expect(paced.stats().refusals.OPERATION_TIME_LIMIT ?? 0).toBe(0);
    }, 60_000);
  }
});
