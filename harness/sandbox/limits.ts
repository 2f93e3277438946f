/**
 * The portal's two limits, on the sandbox clock (ms):
 * - LeakyBucket: each request adds 1, the level drains by `rate` per second; a request that would take the
 *   level past `burst` is refused (503 QUERY_LIMIT_EXCEEDED) and does not count.
 * - OperatingBudget + RequestLoad: the server's LoadLimiter (rest/classes/general/rest.php). Server time per
 *   auth entity and method, in 10 buckets of window/10. A request's numBucket is fixed when it starts; its
 *   time is booked when it ends, into that bucket, as the sum of its calls of the method (only when over the
 *   minimal fix time). A call is refused when the 10 buckets up to numBucket plus the request's own finished
 *   calls (each over the minimal fix time) are over the limit: the check runs before a call, the call that
 *   crosses still completes, and requests in flight are invisible to others. A bucket drops out at its slot's
 *   boundary (numBucket − 9 no longer reaches it), not a window after its first call; operating_reset_at is
 *   the oldest live bucket's first call + window, in whole seconds.
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
  sum: number;
  /** What operating_reset_at reports for it: the first call of the request that opened it + window (ms). */
  expireAt: number;
}

export class OperatingBudget {
  /** key → bucket number → bucket. */
  private readonly buckets = new Map<string, Map<number, Bucket>>();
  private readonly slotMs: number;

  /** limit and window in seconds. */
  constructor(
    private readonly limit: number,
    private readonly window: number,
    private readonly now: () => number,
  ) {
    this.slotMs = (window * 1000) / 10;
  }

  /** numBucket of a request that started at `at` (intdiv(time(), bucketSize)). */
  private slotOf(at: number): number {
    return Math.floor(at / this.slotMs);
  }

  /** The live buckets for a request that started at `at`, oldest first. */
  private live(key: string, at: number): Bucket[] {
    const top = this.slotOf(at);
    const map = this.buckets.get(key);
    if (!map) return [];
    const out: Bucket[] = [];
    for (let slot = top - 9; slot <= top; slot++) {
      const b = map.get(slot);
      if (b && b.sum > 0) out.push(b);
    }
    return out;
  }

  /** Seconds booked for `key` as a request that started at `at` reads them (getRestTime without its own calls). */
  operating(key: string, at = this.now()): number {
    return this.live(key, at).reduce((s, b) => s + b.sum, 0);
  }

  /** Unix seconds of the oldest live bucket's reset; undefined when nothing is booked. */
  resetAt(key: string, at = this.now()): number | undefined {
    const oldest = this.live(key, at)[0];
    return oldest ? Math.floor(oldest.expireAt / 1000) : undefined;
  }

  /** LoadLimiter::is: over the limit (strictly) with the request's own finished calls. */
  blocked(key: string, at = this.now(), own = 0): boolean {
    return this.operating(key, at) + own > this.limit;
  }

  /** LoadLimiter::finalize for one request: every key it called, into the bucket of its start. */
  book(load: RequestLoad): void {
    const slot = this.slotOf(load.startedAt);
    for (const [key, seconds, firstAt] of load.totals()) {
      let map = this.buckets.get(key);
      if (!map) {
        map = new Map();
        this.buckets.set(key, map);
      }
      const b = map.get(slot);
      if (b) b.sum += seconds;
      else map.set(slot, { sum: seconds, expireAt: firstAt + this.window * 1000 });
      const old = this.slotOf(this.now()) - 20;
      for (const s of map.keys()) if (s < old) map.delete(s);
    }
  }

  /** Every key with time in the window now → seconds (for stats). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.buckets.keys()) {
      const v = this.operating(m);
      if (v > 0) out[m] = round(v);
    }
    return out;
  }
}

/** One request's calls per key, as LoadLimiter's timeRegistered keeps them until the request ends. */
export class RequestLoad {
  private readonly calls = new Map<string, { firstAt: number; total: number; counted: number }>();

  /** `startedAt`: the request's start (fixes its numBucket); `minFix`: the minimal fix time, seconds. */
  constructor(
    readonly startedAt: number,
    private readonly minFix: number,
  ) {}

  /** A call of `key` that started at `at` ended after `seconds`. */
  ran(key: string, seconds: number, at: number): void {
    const c = this.calls.get(key) ?? { firstAt: at, total: 0, counted: 0 };
    c.total += seconds;
    // getRestTime counts the request's own finished calls one by one, each only when over the minimal fix time.
    if (seconds > this.minFix) c.counted += seconds;
    this.calls.set(key, c);
  }

  /** The request's own finished calls of `key` that its later checks count. */
  own(key: string): number {
    return this.calls.get(key)?.counted ?? 0;
  }

  /** What finalize books: per key its calls' sum when over the minimal fix time, and its first call's start. */
  totals(): [string, number, number][] {
    const out: [string, number, number][] = [];
    for (const [key, c] of this.calls) if (c.total > this.minFix) out.push([key, c.total, c.firstAt]);
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
