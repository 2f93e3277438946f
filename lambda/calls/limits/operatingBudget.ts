/**
 * Our model of one method's operating-time budget (time.operating: server seconds spent by this method for
 * this webhook within `window`, kept by the portal in 10 buckets, each expiring `window` after its first
 * charge; operating_reset_at = expiry of the oldest). Times are portal-clock milliseconds, passed in.
 *
 * The portal's reports are the truth (they include usage we cannot see: earlier chunks, other callers);
 * between reports we add what we have in flight, priced at the per-command cost we observe. Three zones of
 * predicted usage (reported + in flight + this request):
 * - below `soft` × limit: no pacing (only the rate limit applies);
 * - above it: starts are spaced so server time is spent at the faster of `pace` × limit / window (the
 *   sustainable rate (default 1: whatever is spent now expires a window later), the rate at which our own
 *   earlier charges expire over the next bucket, and "the budget left below `hard`, spread until the oldest
 *   bucket resets";
 * - a request that would take the prediction past `hard` × limit waits for operating_reset_at; after it
 *   one probe goes out alone (its answer tells us how much the expired bucket freed).
 * A 429 / OPERATION_TIME_LIMIT blocks until operating_reset_at + 1 s (or a bucket length when unknown).
 */
export interface OperatingOptions {
  /** Seconds of server time allowed within the window. */
  limit: number;
  /** Window, seconds. */
  window: number;
  soft?: number;
  hard?: number;
  pace?: number;
}

export interface OperatingReport {
  /** time.operating, seconds. */
  operating: number;
  /** time.operating_reset_at as portal ms; undefined when absent. */
  resetAt?: number;
  /** Portal ms of the answer (time.finish). */
  at: number;
  /** Commands of this method in the request. */
  units: number;
  /** Server seconds the request reports for this method (durations), used when the delta is unusable. */
  spent?: number;
}

export class OperatingBudget {
  readonly soft: number;
  readonly hard: number;
  readonly pace: number;
  private operating = 0;
  private at = -Infinity;
  private resetAt: number | undefined;
  private perUnit: number | undefined;
  private inflightUnits = 0;
  private inflightRequests = 0;
  private lastStart = -Infinity;
  private blockedUntil = -Infinity;
  /** Set when the oldest bucket expired after our last report: the next request goes alone as a probe. */
  private probing = false;
  /** Set by a refusal: once the block lifts, one probe goes out alone (the block says nothing about the room left). */
  private probeAfterBlock = false;
  /** Our own charges (portal ms at or after the charge, seconds): they tell when capacity frees. */
  private charges: { at: number; cost: number }[] = [];
  /** Highest operating seen (stats). */
  peak = 0;

  constructor(private readonly opts: OperatingOptions) {
    this.soft = opts.soft ?? 0.75;
    this.hard = opts.hard ?? 0.99;
    this.pace = opts.pace ?? 1;
  }

  /** Estimated server seconds of one command of this method (undefined until observed). */
  get costPerCommand(): number | undefined {
    return this.perUnit;
  }

  get reported(): { operating: number; resetAt: number | undefined } {
    return { operating: this.operating, resetAt: this.resetAt };
  }

  private estimate(units: number): number {
    return (this.perUnit ?? 0) * units;
  }

  /**
   * Our charges still inside the last report, oldest first, with the part of each the report still counts.
   * A charge stamped `c` (at or after the real charge) is gone by c + window at the latest; buckets can drop
   * it up to one bucket earlier, so when our charges since report − window add up to more than the report,
   * the surplus is taken off the oldest ones (already gone). Usage we cannot explain (earlier chunks, other
   * callers) is never assumed to free before operating_reset_at.
   */
  private counted(): { at: number; cost: number }[] {
    const w = this.opts.window * 1000;
    const live = this.charges.filter((c) => c.at > this.at - w);
    let early = Math.max(0, live.reduce((s, c) => s + c.cost, 0) - this.operating);
    return live.map((c) => {
      const gone = Math.min(c.cost, early);
      early -= gone;
      return { at: c.at, cost: c.cost - gone };
    });
  }

  /** Our counted charges surely expired by `t`. */
  private freedBy(t: number): number {
    const w = this.opts.window * 1000;
    return this.counted().reduce((s, c) => (c.at <= t - w ? s + c.cost : s), 0);
  }

  /** When (portal ms) our own expiring charges free `excess` seconds; undefined if they cannot. */
  private freesAt(excess: number): number | undefined {
    const w = this.opts.window * 1000;
    let sum = 0;
    for (const c of this.counted()) {
      sum += c.cost;
      if (sum >= excess) return c.at + w + 50;
    }
    return undefined;
  }

  /** Milliseconds to wait before a request of `units` commands may start; 0 = now. */
  wait(now: number, units: number): number {
    // The portal-clock offset is learnt from the first answer: a start stamped before that may lie ahead.
    if (this.lastStart > now) this.lastStart = now;
    if (now < this.blockedUntil) return this.blockedUntil - now;
    if (this.probeAfterBlock) {
      this.probeAfterBlock = false;
      this.probing = true;
    }
    const { limit, window } = this.opts;
    const cost = this.estimate(units);
    const inflight = this.estimate(this.inflightUnits);
    if (this.probing) {
      // The oldest bucket expired since the last report: let one request find out how much it freed.
      return this.inflightRequests === 0 ? 0 : 100;
    }
    const usage = this.operating - this.freedBy(now);
    const predicted = usage + inflight + cost;
    if (predicted > this.hard * limit) {
      const freeAt = this.freesAt(this.operating + inflight + cost - this.hard * limit);
      if (freeAt !== undefined) return Math.max(1, freeAt - now);
      if (this.inflightRequests > 0) return 100; // an answer is on its way with fresher numbers
      const reset = this.resetAt ?? this.at + (window * 1000) / 10;
      if (now >= reset) {
        this.probing = true;
        return 0;
      }
      return reset - now + 50;
    }
    if (usage + inflight <= this.soft * limit || cost === 0) return 0;
    const sustainable = (this.pace * limit) / window;
    const left = this.hard * limit - predicted;
    const untilReset = this.resetAt !== undefined ? (this.resetAt - now) / 1000 : Infinity;
    // Our own charges expiring over the next bucket length free capacity at this rate: spending it keeps usage level.
    const slot = (window * 1000) / 10;
    const freeing = (this.freedBy(now + slot) - this.freedBy(now)) / (slot / 1000);
    const rate = Math.max(sustainable, freeing, untilReset > 0 ? left / untilReset : sustainable);
    const next = this.lastStart + (cost / rate) * 1000;
    return Math.max(0, Math.ceil(next - now));
  }

  start(now: number, units: number): void {
    this.inflightUnits += units;
    this.inflightRequests += 1;
    this.lastStart = now;
  }

  /** The request ended (with or without a report). */
  finish(units: number): void {
    this.inflightUnits = Math.max(0, this.inflightUnits - units);
    this.inflightRequests = Math.max(0, this.inflightRequests - 1);
  }

  /**
   * A report from an answer (envelope `time` or a nested `result_time`). Returns the seconds charged to us:
   * the growth of `operating` since the previous report when it is usable, else the per-command estimate.
   */
  observe(r: OperatingReport): number {
    if (!Number.isFinite(r.operating)) return 0;
    this.peak = Math.max(this.peak, r.operating);
    let sample: number | undefined;
    // The cost is the growth of operating since the previous report (when nothing expired in between), or
    // server time known otherwise (`spent`). It prices one command only when the request was alone in flight
    // (otherwise the growth may include other requests' work).
    const alone = this.inflightRequests <= 1;
    const delta =
      r.at >= this.at && r.resetAt !== undefined && r.resetAt === this.resetAt && r.operating >= this.operating
        ? r.operating - this.operating
        : undefined;
    if (r.spent !== undefined && r.spent > 0) sample = r.spent;
    else if (alone) sample = delta;
    if (sample !== undefined && r.units > 0 && sample > 0) {
      const unit = sample / r.units;
      this.perUnit = this.perUnit === undefined ? unit : 0.7 * this.perUnit + 0.3 * unit;
    }
    const charged = r.spent ?? delta ?? (this.perUnit ?? 0) * r.units;
    if (charged > 0) {
      this.charges.push({ at: r.at, cost: charged });
      const keep = r.at - 2 * this.opts.window * 1000;
      while (this.charges.length && this.charges[0].at < keep) this.charges.shift();
    }
    if (r.at >= this.at) {
      this.operating = r.operating;
      this.at = r.at;
      this.resetAt = r.resetAt;
      this.probing = false;
    }
    return charged;
  }

  /**
   * The portal refused with OPERATION_TIME_LIMIT: nothing for this method until the oldest bucket expires. The
   * reset is the refusal's own (a whole answer's `time`), else the last one this method reported, else an
   * estimate from our own charges (the oldest still counted frees at its time + window), else one bucket.
   */
  blocked(now: number, resetAt: number | undefined): void {
    const known = resetAt ?? (this.resetAt !== undefined && this.resetAt > now ? this.resetAt : undefined) ?? this.ownReset(now);
    const until = (known ?? now + (this.opts.window * 1000) / 10) + 1000;
    this.blockedUntil = Math.max(this.blockedUntil, until);
    this.operating = Math.max(this.operating, this.opts.limit);
    this.at = Math.max(this.at, now);
    this.probing = false;
    this.probeAfterBlock = true;
    // After the block lifts, go one request at a time until an answer says how much room there is.
    this.resetAt = until - 1000;
  }

  /** When the oldest of our charges still inside the window expires, if later than `now`. */
  private ownReset(now: number): number | undefined {
    const w = this.opts.window * 1000;
    const oldest = this.charges.find((c) => c.at + w > now);
    return oldest ? oldest.at + w : undefined;
  }
}
