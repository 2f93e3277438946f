/**
 * The portal's two limits, on the sandbox clock (ms):
 * - LeakyBucket: each request adds 1, the level drains by `rate` per second; a request that would take the
 *   level past `burst` is refused (503 QUERY_LIMIT_EXCEEDED) and does not count.
 * - OperatingBudget: server time per method over a sliding window kept in 10 buckets of window/10, like the
 *   real portal (limits.md). A bucket expires `window` after its first charge; `operating` is the sum of live
 *   buckets, `operating_reset_at` the expiry of the oldest. The check runs before a call; the call that
 *   crosses the limit still completes.
 */

export class LeakyBucket {
  private level = 0;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.last = now();
  }

  private drain(): void {
    const t = this.now();
    this.level = Math.max(0, this.level - ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Takes one request; false = refused. */
  take(): boolean {
    this.drain();
    if (this.level + 1 > this.burst) return false;
    this.level += 1;
    return true;
  }

  current(): number {
    this.drain();
    return this.level;
  }
}

interface Bucket {
  /** Slot number: floor(first charge / slot length). */
  slot: number;
  firstAt: number;
  sum: number;
}

export class OperatingBudget {
  private readonly buckets = new Map<string, Bucket[]>();

  /** limit and window in seconds. */
  constructor(
    private readonly limit: number,
    private readonly window: number,
    private readonly now: () => number,
  ) {}

  private live(method: string): Bucket[] {
    const t = this.now();
    const windowMs = this.window * 1000;
    const list = (this.buckets.get(method) ?? []).filter((b) => b.firstAt + windowMs > t);
    this.buckets.set(method, list);
    return list;
  }

  /** Seconds used by `method` in the window. */
  operating(method: string): number {
    return this.live(method).reduce((s, b) => s + b.sum, 0);
  }

  /** Unix seconds when the method's oldest live bucket expires; undefined when nothing is in the window. */
  resetAt(method: string): number | undefined {
    const list = this.live(method);
    return list.length ? Math.ceil((list[0].firstAt + this.window * 1000) / 1000) : undefined;
  }

  blocked(method: string): boolean {
    return this.operating(method) >= this.limit;
  }

  charge(method: string, seconds: number): void {
    if (seconds <= 0) return;
    const t = this.now();
    const slotMs = (this.window * 1000) / 10;
    const slot = Math.floor(t / slotMs);
    const list = this.live(method);
    const lastBucket = list[list.length - 1];
    if (lastBucket && lastBucket.slot === slot) lastBucket.sum += seconds;
    else list.push({ slot, firstAt: t, sum: seconds });
  }

  /** Every method with time in the window → seconds (for stats). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.buckets.keys()) {
      const v = this.operating(m);
      if (v > 0) out[m] = round(v);
    }
    return out;
  }
}

export function round(n: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The cost of one command: costs[method] ?? costs.default ?? 0.01 s. */
export function costOf(costs: Record<string, number>, method: string): number {
  return costs[method] ?? costs.default ?? 0.01;
}

export const DEFAULT_COSTS: Record<string, number> = {
  'crm.lead.update': 0.08,
  'crm.lead.get': 0.02,
  'crm.lead.list': 0.05,
  'crm.lead.fields': 0.03,
  'crm.status.list': 0.01,
  default: 0.01,
};
