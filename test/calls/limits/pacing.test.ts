import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../../lambda/calls/client.ts';
import { createSender } from '../../../lambda/calls/sender.ts';
import { parseRunOptions } from '../../../lambda/config.ts';
import { mulberry32 } from '../../../harness/sandbox/faults.ts';
import { type SandboxOptions, startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { batchAnswer, batchCommands, fakeSetup, row } from '../../support/bitrix.ts';

/**
 * Pacing against a sandbox that answers like a real portal: a batch answers after its commands' server time,
 * one after another (timeScale 1), each command is checked against the budget before it runs and booked when it
 * ends, `start`/`processing` are whole seconds. The window is shrunk to seconds so the budget binds several
 * times in one test; every command's time is booked (operatingMinFix 0).
 */
vi.stubEnv('B24_LOCAL_MODE', '1');

let sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  sandboxes = [];
});

/** 1.5 s window, 0.5 s budget, 0.01 s per update: 50 updates fit a window, a full batch takes 0.5 s to answer. */
const PORTAL: SandboxOptions = {
  rate: 20,
  burst: 20,
  operatingLimit: 0.5,
  operatingWindow: 1.5,
  operatingMinFix: 0,
  timeScale: 1,
  costs: { 'crm.lead.update': 0.01 },
};

async function run(n: number, concurrency: number, extra: SandboxOptions = {}) {
  const sb = await startSandbox({ ...PORTAL, ...extra });
  sandboxes.push(sb);
  const ids = sb.seedLeads(Array.from({ length: n }, () => ({ TITLE: 't' })));
  const operatingLimit = extra.operatingLimit ?? 0.5;
  const options = parseRunOptions({ limits: { rate: 20, burst: 20, operatingLimit, operatingWindow: 1.5, concurrency } });
  const api = createClient({ webhookUrl: sb.webhookUrl, limits: options.limits });
  const sender = createSender({ api, options });
  const out = await sender.send(
    ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}` })),
    Date.now() + 120_000,
  );
  return { sb, out, api };
}

/** Commands per request, in the order the portal applied them. */
function batchSizes(sb: Sandbox): number[] {
  const per = new Map<number, number>();
  for (const e of sb.ledger()) per.set(e.requestSeq, (per.get(e.requestSeq) ?? 0) + 1);
  return [...per.values()];
}

describe('pacing on a portal that books time when each call ends', () => {
  it('one series: no OPERATION_TIME_LIMIT, and a smaller batch goes when a full one no longer fits the window', async () => {
    // 0.75 s a window: after a full batch (0.5 s) only 26 commands fit (the 26th may cross the limit)
    const { sb, out } = await run(160, 1, { operatingLimit: 0.75 });
    expect(out.every((o) => o.status === 'updated' && o.attempts === 1)).toBe(true);
    expect(sb.stats().refusals).toEqual({});
    const sizes = batchSizes(sb);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(160);
    // not only the file's last batch is short: the window's budget was filled with a smaller one
    expect(sizes.slice(0, -1).some((s) => s < 50)).toBe(true);
  }, 30_000);

  it('four series: requests in flight whose time the portal has not booked yet are counted, no refusal', async () => {
    const { sb, out } = await run(200, 4);
    expect(out.every((o) => o.status === 'updated' && o.attempts === 1)).toBe(true);
    expect(sb.stats().refusals).toEqual({});
    expect(sb.ledger()).toHaveLength(200);
  }, 30_000);

  it('costs that vary fivefold from batch to batch (cost hook): no refusal', async () => {
    const random = mulberry32(5);
    const drawn = new Map<number, number>();
    const cost = (method: string, _p: unknown, request: number) => {
      if (method !== 'crm.lead.update') return undefined;
      if (!drawn.has(request)) drawn.set(request, 0.002 + 0.008 * random());
      return drawn.get(request);
    };
    // 0.1–0.5 s of a 1 s budget per batch of 50 (the bench's proportions, 2–8 s of 8 s, are milder)
    const { sb, out } = await run(300, 2, { cost, operatingLimit: 1 });
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect(sb.stats().refusals).toEqual({});
    expect(new Set(drawn.values()).size).toBeGreaterThan(2);
  }, 30_000);
});

describe('a chunk starts knowing what its predecessor spent', () => {
  it('snapshot → JSON → restore: the next chunk waits for the budget instead of being refused', async () => {
    const sb = await startSandbox({ ...PORTAL, operatingWindow: 3, operatingLimit: 0.5 });
    sandboxes.push(sb);
    const ids = sb.seedLeads(Array.from({ length: 100 }, () => ({ TITLE: 't' })));
    const options = parseRunOptions({ limits: { rate: 20, burst: 20, operatingLimit: 0.5, operatingWindow: 3, concurrency: 1 } });
    const chunk = async (rows: number[], restore?: string) => {
      // a fresh Lambda: a new client and sender, started from the checkpoint's JSON
      const api = createClient({ webhookUrl: sb.webhookUrl, limits: options.limits });
      const sender = createSender({ api, options });
      if (restore) sender.resumePacer(JSON.parse(restore));
      const out = await sender.send(
        rows.map((id, i) => row(i + 2, id, { TITLE: `x${id}` })),
        Date.now() + 60_000,
      );
      return { out, snapshot: JSON.stringify(sender.pacerState()) };
    };
    // The first chunk spends the whole window's budget (50 updates).
    const first = await chunk(ids.slice(0, 50));
    expect(first.out.every((o) => o.status === 'updated')).toBe(true);
    expect(first.snapshot.length).toBeLessThan(4096);
    const second = await chunk(ids.slice(50), first.snapshot);
    expect(second.out.every((o) => o.status === 'updated' && o.attempts === 1)).toBe(true);
    expect(sb.stats().refusals).toEqual({});
    // malformed state from an older checkpoint is ignored, not thrown
    expect(() =>
      createSender({ api: createClient({ webhookUrl: sb.webhookUrl, limits: options.limits }), options }).resumePacer({ v: 1, budgets: 7 }),
    ).not.toThrow();
  }, 30_000);
});

describe('start fast', () => {
  it('the first request of a fresh run leaves without waiting for the rate limiter', async () => {
    const { sender, calls, clock } = fakeSetup((call) => ({ body: batchAnswer(batchCommands(call).keys(), { time: { finish: 1 } }) }));
    const t0 = clock.now();
    await sender.send([row(2, 1, { TITLE: 'a' })], Infinity);
    expect(calls[0].at - t0).toBeLessThan(50);
    expect(clock.slept).toEqual([]);
  });
});
