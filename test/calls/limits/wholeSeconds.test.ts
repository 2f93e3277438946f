import { describe, expect, it } from 'vitest';
import { PortalClock } from '../../../lambda/calls/limits/throttle.ts';
import { batchAnswer, batchCommands, type FakeCall, fakeSetup, row } from '../../support/bitrix.ts';

/**
 * Current portals print `start` and `processing` as whole seconds (SRV rest.php declares them int; processing
 * mostly 0, sometimes 1; duration inflated by up to 1 s); `operating` stays a float. Work must be priced from
 * the growth of `operating` per method, and the portal clock must not lean on the truncated `start`.
 */
const COST = 0.7; // server seconds per crm.lead.update (35 s a batch: the 14th batch would cross 480 mid-batch)
const LIMIT = 480;
const WINDOW_MS = 600_000;

/**
 * A portal billing each nested crm.lead.update to its method as LoadLimiter does: one-minute buckets, a
 * request's commands booked together when it ends into the bucket of its start, a bucket counted while it is
 * among the last ten (it drops out at its minute's boundary); a command is refused when the buckets plus the
 * request's own earlier commands are over the limit (the call that crosses still completes);
 * operating_reset_at = the oldest live bucket's first request + 600 s.
 */
function billingPortal() {
  const buckets = new Map<number, { cost: number; firstAt: number }>();
  let commands = 0;
  let refusals = 0;
  const live = (slot: number) => [...buckets].filter(([b]) => b >= slot - 9 && b <= slot).sort((x, y) => x[0] - y[0]);
  const answer = (call: FakeCall) => {
    const now = call.at;
    const slot = Math.floor(now / 60_000);
    const booked = live(slot).reduce((s, [, b]) => s + b.cost, 0);
    const times: Record<string, unknown> = {};
    const errors: Record<string, unknown> = {};
    let own = 0;
    let i = 0;
    for (const key of batchCommands(call).keys()) {
      if (booked + own > LIMIT) {
        refusals++;
        errors[key] = { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit.' };
        continue;
      }
      own += COST;
      commands++;
      const oldest = live(slot)[0]?.[1].firstAt ?? now;
      times[key] = {
        start: Math.floor(now / 1000),
        finish: now / 1000, // a portal never reports a finish after its answer arrived
        duration: 1.6,
        processing: i++ % 7 === 0 ? 1 : 0,
        operating: booked + own,
        operating_reset_at: Math.floor((oldest + WINDOW_MS) / 1000),
      };
    }
    const bucket = buckets.get(slot);
    if (bucket) bucket.cost += own;
    else if (own > 0) buckets.set(slot, { cost: own, firstAt: now });
    const start = Math.floor(now / 1000);
    const time = { start, finish: now / 1000, duration: 1.7, processing: 1, operating: 0, operating_reset_at: start + 600 };
    return { body: batchAnswer(batchCommands(call).keys(), { errors, times, time }) };
  };
  return { answer, commands: () => commands, refusals: () => refusals };
}

describe('whole-second time blocks', () => {
  it('pricing from operating deltas: the estimate matches them and no request crosses the budget', async () => {
    const portal = billingPortal();
    const { sender, client } = fakeSetup(portal.answer);
    const rows = Array.from({ length: 2000 }, (_, i) => row(i + 2, 1000 + i, { TITLE: `t${i}` }));
    const out = await sender.send(rows, Infinity);
    expect(portal.refusals()).toBe(0);
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    const b = client.throttle.budget('crm.lead.update');
    expect(b.costPerCommand).toBeCloseTo(COST, 2);
    // every batch is charged what operating grew by between its own commands, times its commands
    const charged = portal.commands() * COST;
    expect(client.stats().operatingSeconds).toBeGreaterThan(charged - 1);
    expect(client.stats().operatingSeconds).toBeLessThan(charged + 1);
  }, 60_000);
});

describe('PortalClock with whole-second start', () => {
  it('does not jump or drift when start is truncated to the second', () => {
    const skew = 123_456;
    let local = 1_000_000_000;
    const c = new PortalClock(() => local);
    for (let i = 0; i < 40; i++) {
      const sent = local;
      const portalStart = (sent + 20 + skew) / 1000;
      const portalFinish = portalStart + 0.05 + (i % 5) * 0.01;
      const received = sent + 40 + 50 + (i % 5) * 10;
      c.observe({ start: Math.floor(portalStart), finish: portalFinish, processing: 0 }, sent, received);
      expect(Math.abs(c.offsetMs - skew)).toBeLessThan(60);
      local += 337;
    }
  });
});
