/**
 * Our model of the portal's request counter (a leaky bucket: +1 per request, drains `rate`/s, refuses past
 * `burst`; a batch is one request). Times are portal-clock milliseconds, passed in, so this stays pure.
 *
 * Start: the bucket is assumed EMPTY, as the portal's own counter is for a fresh run: the first request goes
 * at once. A later chunk of the same run restores its predecessor's level (snapshot/restore, carried in the
 * checkpoint), so it does not burst on a counter its predecessor left full. Someone else on the portal shows
 * up as a refusal, handled below. The burst is kept as slack (`margin` requests below the top) to absorb
 * network jitter: requests sent evenly can arrive bunched.
 *
 * On a refusal (503 QUERY_LIMIT_EXCEEDED) someone else is using the counter: the model is reset to full and
 * the drain rate we assume is cut by 20% (floor: 25% of nominal); 20 accepted requests in a row restore 10%.
 */
export interface RateLimiterOptions {
  rate: number;
  burst: number;
  /** Requests kept free below the top of the bucket (default max(1, 5% of burst)). */
  margin?: number;
}

/** What a later chunk needs to go on where this one stopped (local epoch ms). */
export interface RateSnapshot {
  level: number;
  at: number;
  factor: number;
}

export class RateLimiter {
  private level: number;
  private at: number | undefined;
  private factor = 1;
  private streak = 0;
  readonly margin: number;

  constructor(private readonly opts: RateLimiterOptions) {
    this.level = 0;
    this.margin = opts.margin ?? Math.max(1, Math.min(opts.burst - 1, Math.ceil(opts.burst * 0.05)));
  }

  /** The drain rate currently assumed (requests/s). */
  get rate(): number {
    return this.opts.rate * this.factor;
  }

  private drain(now: number): void {
    if (this.at !== undefined && now > this.at) this.level = Math.max(0, this.level - ((now - this.at) / 1000) * this.rate);
    this.at = this.at === undefined ? now : Math.max(this.at, now);
  }

  /** Milliseconds to wait before one more request fits; 0 = it fits now (nothing is taken). */
  wait(now: number): number {
    this.drain(now);
    const top = this.opts.burst - this.margin;
    const over = this.level + 1 - top;
    return over <= 0 ? 0 : Math.ceil((over / this.rate) * 1000);
  }

  /** Takes one request now (call when wait(now) is 0). */
  take(now: number): void {
    this.drain(now);
    this.level += 1;
  }

  /** The portal refused a request: it is fuller than we thought. */
  refused(now: number): void {
    this.drain(now);
    this.level = this.opts.burst;
    this.streak = 0;
    this.factor = Math.max(0.25, this.factor * 0.8);
  }

  snapshot(now: number): RateSnapshot {
    this.drain(now);
    return { level: round3(this.level), at: now, factor: round3(this.factor) };
  }

  /** Takes over a predecessor's counter (it drains from its `at` on, as the portal's does). */
  restore(s: RateSnapshot): void {
    if (!Number.isFinite(s.level) || !Number.isFinite(s.at)) return;
    this.level = Math.min(this.opts.burst, Math.max(0, s.level));
    this.at = s.at;
    if (Number.isFinite(s.factor)) this.factor = Math.min(1, Math.max(0.25, s.factor));
  }

  accepted(): void {
    if (this.factor >= 1) return;
    if (++this.streak >= 20) {
      this.streak = 0;
      this.factor = Math.min(1, this.factor * 1.1);
    }
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
