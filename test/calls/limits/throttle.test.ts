import { describe, expect, it } from 'vitest';
import { OperatingBudget } from '../../../lambda/calls/limits/operatingBudget.ts';
import { RateLimiter } from '../../../lambda/calls/limits/rateLimiter.ts';
import { PortalClock } from '../../../lambda/calls/limits/throttle.ts';

describe('RateLimiter (leaky bucket model)', () => {
  it('starts assuming a full bucket, then goes at the drain rate', () => {
    const r = new RateLimiter({ rate: 2, burst: 50, margin: 2 });
    // full (50) − margin 2 → the first request waits for 3 requests' drain (1.5 s)
    expect(r.wait(0)).toBe(1500);
    let t = 1500;
    const starts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const w = r.wait(t);
      t += w;
      r.take(t);
      starts.push(t);
    }
    const gaps = starts.slice(1).map((s, i) => s - starts[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(499);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(501);
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

  it('does not pace below the soft zone, spaces starts above it, blocks near the limit until reset', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 1, resetAt: 20_000, at: 1000, units: 50, spent: 0.45 });
    expect(b.costPerCommand).toBeCloseTo(0.009);
    expect(b.wait(1000, 50)).toBe(0);
    b.observe({ operating: 13, resetAt: 20_000, at: 2000, units: 50, spent: 0.45 });
    b.start(2000, 50);
    b.finish(50);
    const w = b.wait(2000, 50);
    expect(w).toBeGreaterThan(0);
    // 0.45 s of cost at ≥ 0.97 × 16 / 20 = 0.776 s/s → at most ~580 ms apart
    expect(w).toBeLessThanOrEqual(600);
    b.observe({ operating: 15.6, resetAt: 20_000, at: 3000, units: 50, spent: 0.45 });
    // our own charge stamped 1000 is gone by 1000 + 20 s: that frees enough for one more batch
    expect(b.wait(3000, 50)).toBe(21_050 - 3000);
    expect(b.wait(21_050, 50)).toBe(0);
  });

  it('with usage it cannot explain (another caller), waits for the reset and then sends one probe', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 15.9, resetAt: 20_000, at: 3000, units: 50, spent: 0.45 });
    expect(b.wait(3000, 50)).toBe(20_000 - 3000 + 50);
    expect(b.wait(20_050, 50)).toBe(0);
    b.start(20_050, 50);
    expect(b.wait(20_060, 50)).toBeGreaterThan(0);
  });

  it('after a 429 waits until operating_reset_at + 1 s', () => {
    const b = new OperatingBudget({ limit, window });
    b.blocked(5000, 12_000);
    expect(b.wait(5000, 50)).toBe(8000);
    expect(b.wait(13_000, 50)).toBe(0);
  });

  it('learns the per-command cost from the growth of operating', () => {
    const b = new OperatingBudget({ limit, window });
    b.observe({ operating: 0.5, resetAt: 20_000, at: 1000, units: 50 });
    b.start(1000, 50);
    b.observe({ operating: 1.0, resetAt: 20_000, at: 1500, units: 50 });
    b.finish(50);
    expect(b.costPerCommand).toBeCloseTo(0.01);
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
