import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffDelay } from '../../lambda/calls/backoff.ts';

describe('backoffDelay: base·2^(n−1), capped at 10 s, ±20 % jitter', () => {
  it('doubles from the 500 ms base with the jitter at its middle', () => {
    expect(BACKOFF_BASE_MS).toBe(500);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 0.5))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('never waits past the cap before jitter', () => {
    expect(BACKOFF_CAP_MS).toBe(10_000);
    expect(backoffDelay(6, 0.5)).toBe(10_000);
    expect(backoffDelay(30, 0.5)).toBe(10_000);
  });

  it('jitter spans 80 %…120 % of the base, rounded to whole ms', () => {
    expect(backoffDelay(1, 0)).toBe(400);
    expect(backoffDelay(1, 0.999999)).toBe(600);
    expect(backoffDelay(6, 0)).toBe(8000);
    expect(backoffDelay(6, 0.999999)).toBe(12_000);
    expect(backoffDelay(2, 0.123)).toBe(Math.round(1000 * (0.8 + 0.4 * 0.123)));
  });

  it('takes another base (the client’s backoffMs option)', () => {
    expect(backoffDelay(1, 0.5, 20)).toBe(20);
    expect(backoffDelay(3, 0.5, 20)).toBe(80);
  });
});
