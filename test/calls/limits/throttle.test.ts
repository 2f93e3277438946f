import { describe, expect, it } from 'vitest';
import { OperatingBudget } from '../../../lambda/calls/limits/operatingBudget.ts';
import { RateLimiter } from '../../../lambda/calls/limits/rateLimiter.ts';
import { PortalClock, Throttle } from '../../../lambda/calls/limits/throttle.ts';

describe('RateLimiter (leaky bucket model)', () => {
  it('starts empty: the first requests go at once, then at the drain rate past the burst', () => {
    const r = new RateLimiter({ rate: 2, burst: 50, margin: 2 });
    expect(r.wait(0)).toBe(0);
    let t = 0;
    const starts: number[] = [];
    for (let i = 0; i < 60; i++) {
      const w = r.wait(t);
      t += w;
      r.take(t);
      starts.push(t);
    }
    // 48 (the burst less the margin) go within the first second, the rest 500 ms apart
    expect(starts.filter((s) => s === 0).length).toBeGreaterThanOrEqual(47);
    const gaps = starts.slice(50).map((s, i) => s - starts[49 + i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(499);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(501);
  });

  it("a later chunk restores its predecessor's counter and does not burst on it", () => {
    const before = new RateLimiter({ rate: 2, burst: 50, margin: 2 });
    for (let i = 0; i < 48; i++) before.take(1000);
    const snap = JSON.parse(JSON.stringify(before.snapshot(1000)));
    const after = new RateLimiter({ rate: 2, burst: 50, margin: 2 });
    after.restore(snap);
    expect(after.wait(1000)).toBeGreaterThan(0);
    // the counter drains from the snapshot's time on, as the portal's does
    expect(after.wait(60_000)).toBe(0);
  });

  it('resets to full and slows down on a refusal', () => {
    const r = new RateLimiter({ rate: 10, burst: 10, margin: 1 });
    r.wait(0);
    r.refused(0);
    expect(r.rate).toBeCloseTo(8);
    expect(r.wait(0)).toBeGreaterThan(0);
  });
});

describe('OperatingBudget', () => {
  const limit = 16;
  const window = 20;

  it('goes at once while the prediction stays within the budget; a full batch that does not fit waits for our charges to expire', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 1, resetAt: 20_000, at: 1000, units: 50, unitCost: 0.02 });
    expect(b.costPerCommand).toBeCloseTo(0.02);
    expect(b.wait(1000, 50)).toBe(0);
    // 15.5 s booked: 25 commands (0.5 s) fit, the 26th may start just below the limit; 50 do not
    b.observe({ operating: 15.5, resetAt: 20_000, at: 2000, units: 50, unitCost: 0.02 });
    expect(b.fit(2000, 50)).toBe(25);
    expect(b.wait(2000, 25)).toBe(0);
    // the first charge (1 s, booked in the bucket 0–2 s) frees when that bucket ends, 20 s on (+ 5 ms): then a full batch fits
    expect(b.wait(2000, 50)).toBe(20_005 - 2000);
  });

  it('counts reserved commands in line: a batch sized after another leaves room for it, and does not hold it up', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 14.5, resetAt: 20_000, at: 1000, units: 50, unitCost: 0.02 });
    expect(b.fit(1000, 50)).toBe(50); // 1.5 s left: 75 commands
    const first = b.reserve(50);
    expect(b.fit(1000, 50)).toBe(25);
    const second = b.reserve(25);
    expect(b.wait(1000, 25, second)).toBe(0);
    expect(b.wait(1000, 50, first)).toBe(0);
    // a request without a place in line counts every reservation ahead of it
    expect(b.wait(1000, 1)).toBeGreaterThan(0);
    b.release(second);
    expect(b.wait(1000, 25)).toBe(0);
  });

  it('prices commands at the dearest cost seen lately (costs vary from batch to batch)', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 5, resetAt: 20_000, at: 1000, units: 10, unitCost: 0.5 });
    b.observe({ operating: 6, resetAt: 20_000, at: 2000, units: 10, unitCost: 0.1 });
    // the dearest (0.5) plus a quarter of the spread seen (0.4)
    expect(b.worstCost(2000)).toBeCloseTo(0.6);
    // 16 start below the limit at that price ((16 − 6) / 0.6), and a 17th may cross it
    expect(b.fit(2000, 50)).toBe(17);
    expect(b.worstCost(45_000)).toBeCloseTo(b.costPerCommand ?? 0); // two windows on: the smoothed cost
  });

  it('the last command may start just below the limit; without `cross` every command must end within it', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 15.5, resetAt: 20_000, at: 1000, units: 50, unitCost: 0.31 });
    expect(b.fit(1000, 50)).toBe(2); // they start at 15.5 and 15.81
    const strict = new OperatingBudget({ limit, window, cross: false });
    strict.observe({ operating: 15.5, resetAt: 20_000, at: 1000, units: 50, unitCost: 0.31 });
    expect(strict.fit(1000, 50)).toBe(1);
  });

  it('with usage it cannot explain (another caller), waits for the reset and then sends one probe', () => {
    const b = new OperatingBudget({ limit, window });
    // our own 0.09 s cannot explain 15.9 s: only the oldest bucket's reset frees room
    b.observe({ operating: 15.9, resetAt: 20_000, at: 3000, units: 10, unitCost: 0.009 });
    expect(b.wait(3000, 50)).toBe(20_000 - 3000 + 50);
    expect(b.wait(20_050, 50)).toBe(0);
    b.start(20_050, 50);
    expect(b.wait(20_060, 50)).toBeGreaterThan(0);
  });

  it('after a 429 waits until operating_reset_at + 1 s, then probes with one command', () => {
    const b = new OperatingBudget({ limit, window });
    b.blocked(5000, 12_000);
    expect(b.wait(5000, 50)).toBe(8000);
    expect(b.fit(13_000, 50)).toBe(1);
    expect(b.wait(13_000, 1)).toBe(0);
  });

  it('learns the per-command cost from the growth of operating when the request was alone', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 0.5, resetAt: 20_000, at: 1000, units: 50 });
    b.start(1000, 50);
    b.finish(50);
    b.observe({ operating: 1.0, resetAt: 20_000, at: 1500, units: 50 });
    expect(b.costPerCommand).toBeCloseTo(0.01);
  });

  it('snapshot → JSON → restore: a fresh budget knows what was spent when, and waits as the old one would', () => {
    const b = new OperatingBudget({ limit, window });
    for (let i = 0; i < 40; i++) b.observe({ operating: 0.4 * (i + 1), resetAt: 20_000, at: 1000 + i * 100, units: 20, unitCost: 0.02 });
    const snap = JSON.parse(JSON.stringify(b.snapshot(5000)));
    expect(JSON.stringify(snap).length).toBeLessThan(600); // merged per bucket
    const fresh = new OperatingBudget({ limit, window });
    fresh.restore(snap);
    expect(fresh.reported).toEqual(b.reported);
    expect(fresh.worstCost(5000)).toBeCloseTo(0.02);
    // the budget is spent: neither sends now; the restored charges free no earlier than the originals, at most a bucket later
    expect(b.wait(5000, 1)).toBeGreaterThan(0);
    expect(fresh.wait(5000, 1)).toBeGreaterThanOrEqual(b.wait(5000, 1));
    expect(fresh.wait(5000, 1) - b.wait(5000, 1)).toBeLessThanOrEqual(window * 100);
  });
});

describe("OperatingBudget on LoadLimiter's rules (check before each call, booked at the end into the bucket of the start)", () => {
  const limit = 16;
  const window = 20; // buckets of 2 s

  it('at limit − ε one command still goes (it crosses the limit); then nothing until the bucket the spending was booked in ends', () => {
    const b = new OperatingBudget({ limit, window });
    // A request that started at 2.x s (time.start 2, whole seconds) and answered at 9 s: all 15.95 s are ours.
    b.observe({ operating: 15.95, resetAt: 22_000, at: 9000, started: 2000, units: 50, unitCost: 0.319 });
    expect(b.fit(9000, 50)).toBe(1);
    expect(b.wait(9000, 1)).toBe(0);
    b.start(9000, 1);
    // in flight, its worst case takes the method to the limit: nothing else goes
    expect(b.wait(9000, 1)).toBeGreaterThan(0);
    b.finish(1);
    b.observe({ operating: 16.27, resetAt: 22_000, at: 9400, started: 9000, units: 1, unitCost: 0.32 });
    // at the limit: no request until the bucket 2–4 s ends at 22 s (not 20 s after the answer at 9 s); the next
    // batch is sized for then
    expect(b.wait(9400, 1)).toBe(22_005 - 9400);
    expect(b.fit(9400, 50)).toBe(49);
    expect(b.wait(9400, 49)).toBe(22_005 - 9400);
    expect(b.wait(22_005, 49)).toBe(0);
  });

  it('with two in flight, the second is held while the first one’s worst case would reach the limit', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 9.9, resetAt: 22_000, at: 3000, started: 2000, units: 50, unitCost: 0.198 });
    expect(b.fit(3000, 50)).toBe(31); // 30 start below the limit at 0.198 s, the 31st may cross it
    b.start(3000, 31);
    // 9.9 s booked + 31 × 0.198 s in flight: even one more command would start over the limit
    expect(b.wait(3000, 1)).toBeGreaterThan(0);
    b.finish(31);
    b.observe({ operating: 14.55, resetAt: 22_000, at: 4000, started: 3000, units: 31, unitCost: 0.15 });
    expect(b.wait(4000, 1)).toBe(0); // its answer: it cost less than its worst case
  });

  it('a batch of commands each under the minimal fix time is booked when it ends: charged at the dearest cost until the next report prices it', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 2, resetAt: 22_000, at: 2500, started: 2000, units: 10, spent: 2 }); // 0.2 s a command
    // 50 cheap commands: their figures do not grow inside the batch (each is under 0.1 s) and leave it out
    b.observe({ operating: 2, resetAt: 22_000, at: 3000, started: 2000, units: 50 });
    expect(b.wait(3000, 15)).toBe(0); // 2 + 50 × 0.2 (its estimate) + 14 × 0.2 ≤ 16
    expect(b.wait(3000, 25)).toBeGreaterThan(0); // + 24 × 0.2 > 16
    // the next report (a command of 0.2 s) grew by 0.65 s: the batch cost 0.45 s
    b.observe({ operating: 2.65, resetAt: 22_000, at: 4000, started: 4000, units: 1, spent: 0.2 });
    expect(b.wait(4000, 25)).toBe(0);
  });

  it('a report from a request that started before a later one was booked does not make it forget the later one', () => {
    const b = new OperatingBudget({ limit, window });
    // C started at 4.x s, answered first: 4 s booked in the bucket 4–6 s.
    b.observe({ operating: 4, resetAt: 22_000, at: 5000, started: 4000, units: 10, unitCost: 0.4 });
    // A started at 2.x s and answered later: its figures count the buckets up to 2–4 s only, so not C's 4 s.
    b.observe({ operating: 6, resetAt: 22_000, at: 6000, started: 2000, units: 20, unitCost: 0.3 });
    // The portal holds 10 s: 20 commands at 0.425 s (the dearest seen + a quarter of the spread) do not fit.
    expect(b.wait(6000, 20)).toBeGreaterThan(0);
    expect(b.wait(6000, 14)).toBe(0);
  });
});

describe('PortalClock', () => {
  it('measures the portal − local offset, so skew either way is compensated', () => {
    for (const skew of [3_600_000, -3_600_000]) {
      let local = 1_000_000;
      const c = new PortalClock(() => local);
      c.observe({ start: (local + 100 + skew) / 1000, finish: (local + 120 + skew) / 1000 }, local, local + 200);
      expect(Math.abs(c.offsetMs - skew)).toBeLessThan(100);
      local += 5000;
      expect(Math.abs(c.toLocal(local + skew) - local)).toBeLessThan(100);
    }
  });
});

describe('Throttle', () => {
  const opts = { rate: 2, burst: 50, operatingLimit: 480, operatingWindow: 600 };

  it('waitedMs is wall time spent waiting: overlapping waits of parallel requests count once', async () => {
    let now = 0;
    const wakers: Array<() => void> = [];
    const t = new Throttle(
      opts,
      () => now,
      () => new Promise<void>((r) => wakers.push(r)),
    );
    const a = t.pause(1000);
    const b = t.pause(1000);
    now = 1000;
    for (const w of wakers.splice(0)) w();
    await Promise.all([a, b]);
    expect(t.waitedMs).toBe(1000);
    const c = t.pause(500);
    now = 1500;
    for (const w of wakers.splice(0)) w();
    await c;
    expect(t.waitedMs).toBe(1500);
  });

  it('snapshot → JSON → restore carries the counter, the clock offset and the budgets, in a few KB', () => {
    let now = 1_700_000_000_000;
    const t = new Throttle(opts, () => now);
    t.clock.observe({ finish: (now + 5000) / 1000 }, now - 100, now);
    for (let i = 0; i < 300; i++) {
      const billing = [{ method: 'crm.lead.update', units: 50 }];
      t.rate.take(now);
      t.budget('crm.lead.update').start(now, 50);
      t.done(billing);
      const ops = Array.from({ length: 50 }, (_, k) => ({ at: now + 5000 + k * 200, cost: 0.2 }));
      t.observe(
        'crm.lead.update',
        { finish: (now + 15_000) / 1000, operating: 100 + i * 10, operating_reset_at: now / 1000 + 600 },
        50,
        undefined,
        0.2,
        ops,
      );
      now += 10_000;
    }
    const text = JSON.stringify(t.snapshot());
    expect(text.length).toBeLessThan(4096);
    const fresh = new Throttle(opts, () => now);
    fresh.restore(JSON.parse(text));
    expect(Math.abs(fresh.clock.offsetMs - t.clock.offsetMs)).toBeLessThan(1);
    expect(fresh.budget('crm.lead.update').reported).toEqual(t.budget('crm.lead.update').reported);
    expect(fresh.budget('crm.lead.update').worstCost(fresh.clock.portalNow())).toBeCloseTo(0.2);
    // the predecessor left the budget spent: the fresh chunk waits instead of sending into a refusal
    expect(fresh.waitFor([{ method: 'crm.lead.update', units: 50 }])).toBeGreaterThan(0);
  });
});
