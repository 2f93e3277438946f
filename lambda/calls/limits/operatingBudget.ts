/**
 * Our model of one method's operating-time budget, as the server's LoadLimiter keeps it (time.operating:
 * server seconds spent by this method for this webhook, in 10 buckets of window/10). A request's time is booked
 * when it ends, into the bucket of its START, and that bucket drops out at its slot's boundary, ten slots on;
 * a request's calls are checked before each runs against the buckets up to its own start's plus its own
 * finished calls, so the call that crosses the limit completes and requests in flight are invisible to the
 * others. Times are portal-clock milliseconds, passed in.
 *
 * What the portal will have booked for a request that starts at t: our own charges still live at t (each
 * stamped with the start of the bucket it went into, never earlier than the true one), plus usage the last
 * report showed that our charges do not explain (earlier chunks without a snapshot, other callers: never
 * assumed to free before the next report), plus every request in flight or reserved ahead, each command
 * priced at the dearest per-command cost seen lately (costs vary from batch to batch: automation rules). The
 * pacing is greedy, because the budget frees at fixed times (our buckets' ends) whatever we do: a request goes
 * as soon as it fits; `fit` tells the sender how many commands fit (now, or at the earliest time one does).
 * With `cross` the last command of a request may start just below the limit (the check is before a call).
 * A 429 blocks until operating_reset_at + 1 s; then one probe goes alone.
 */
export interface OperatingOptions {
  /** Seconds of server time allowed within the window. */
  limit: number;
  /** Window, seconds. */
  window: number;
  /** Share of the limit to fill (default 1). */
  hard?: number;
  /**
   * Let the last command of a request cross the limit (the portal checks the budget before each call and lets
   * the call that crosses complete). Default true (measured on bench/varying and bench/window, see README).
   */
  cross?: boolean;
}

export interface OperatingReport {
  /** time.operating, seconds. */
  operating: number;
  /** time.operating_reset_at as portal ms; undefined when absent. */
  resetAt?: number;
  /** Portal ms of the answer (time.finish). */
  at: number;
  /** time.start of the request as printed (portal ms; whole seconds on current portals): its bucket. */
  started?: number;
  /** Commands of this method in the request. */
  units: number;
  /** Server seconds the request reports for this method (durations), used when the delta is unusable. */
  spent?: number;
  /** Seconds per command measured inside the request (growth of operating between its own commands). */
  unitCost?: number;
  /** Each command's own cost (from its result_time); booked together when the request ends. */
  bookings?: { at: number; cost: number }[];
}

/** A budget as a later chunk takes it over: small numbers only (it travels in the Step Functions state). */
export interface BudgetSnapshot {
  /** Last report: operating (s), its portal ms, operating_reset_at (portal ms). */
  operating: number;
  at: number;
  resetAt?: number;
  /** Our charges still inside the window: [portal ms, seconds], merged per bucket (stamped at the latest). */
  charges: [number, number][];
  /** Per-command costs seen: [portal ms, seconds], the dearest per bucket. */
  costs: [number, number][];
  /** Smoothed per-command cost. */
  perUnit?: number;
  blockedUntil?: number;
}

/** A charge counts as expired this long after its bucket's end (our portal clock errs late, so a few ms cover the rest). */
const SETTLE_MS = 5;
/** Charges within window / GRAINS of each other are merged (stamped at the latest). */
const GRAINS = 1000;
/** How long after a fractional time.start the server may take its request's bucket (the first limited call's check). */
const START_LAG_MS = 50;

/** Below the limit by this much, so float rounding of `operating` never tips a call over. */
const EPSILON = 1e-6;

export class OperatingBudget {
  readonly hard: number;
  readonly cross: boolean;
  private operating = 0;
  private at = -Infinity;
  private resetAt: number | undefined;
  private perUnit: number | undefined;
  /** Per-command cost samples (portal ms, seconds), two windows' worth. */
  private samples: { at: number; cost: number }[] = [];
  /** Commands of requests sent and not yet answered. */
  private runningUnits = 0;
  /** Requests sent and not yet answered (a delta prices a request only when it was alone). */
  private running = 0;
  /** Requests sized and waiting for their turn: ticket → commands, in the order they were sized. */
  private readonly reservations = new Map<number, number>();
  private nextTicket = 1;
  private blockedUntil = -Infinity;
  /** Set when the oldest bucket expired after our last report: the next request goes alone as a probe. */
  private probing = false;
  /** Set by a refusal: once the block lifts, one probe goes out alone (the block says nothing about the room left). */
  private probeAfterBlock = false;
  /**
   * Our own charges: `at` = the start of the bucket the portal booked the request into (portal ms, never earlier
   * than the true one), so each frees at at + window; seconds. They tell when capacity frees.
   */
  private charges: { at: number; cost: number }[] = [];
  /** Seconds the last report showed that our own charges do not explain (kept until the next report). */
  private foreign = 0;
  /** The last batch booked only when it ended (see observe): its charge, until the next report prices it. */
  private late: { units: number; estimate: number; entry: { at: number; cost: number } } | undefined;
  /** An answer reported this method's figures: until then its cost is unknown, and its first request goes alone. */
  private priced = false;
  /** Highest operating seen (stats). */
  peak = 0;

  constructor(private readonly opts: OperatingOptions) {
    this.hard = opts.hard ?? 1;
    this.cross = opts.cross ?? true;
  }

  /** Estimated server seconds of one command of this method (undefined until observed). */
  get costPerCommand(): number | undefined {
    return this.perUnit;
  }

  /**
   * What a command is priced at: the dearest per-command cost seen within the last two windows, plus a quarter
   * of the spread seen (costs that vary from batch to batch may go a little past the dearest seen so far); the
   * smoothed cost when nothing was seen lately; 0 until observed.
   */
  worstCost(now: number): number {
    const { worst, spread } = this.costRange(now);
    return worst > 0 ? worst + 0.25 * spread : (this.perUnit ?? 0);
  }

  /** The dearest cost and the spread of the costs seen within the last two windows. */
  private costRange(now: number): { worst: number; spread: number } {
    const w = 2 * this.opts.window * 1000;
    let worst = 0;
    let least = Infinity;
    for (const s of this.samples) {
      if (s.at <= now - w) continue;
      worst = Math.max(worst, s.cost);
      least = Math.min(least, s.cost);
    }
    return { worst, spread: worst > 0 ? worst - least : 0 };
  }

  get reported(): { operating: number; resetAt: number | undefined } {
    return { operating: this.operating, resetAt: this.resetAt };
  }

  private get target(): number {
    return this.hard * this.opts.limit - EPSILON;
  }

  private get windowMs(): number {
    return this.opts.window * 1000;
  }

  /** Our charges the portal still counts for a request that starts at `t`. */
  private ownLive(t: number): number {
    const w = this.windowMs;
    return this.charges.reduce((s, c) => (c.at + w + SETTLE_MS > t ? s + c.cost : s), 0);
  }

  /** When (portal ms) our charges live at `now` free `excess` seconds as their buckets end; undefined if they cannot. */
  private freesAt(excess: number, now: number): number | undefined {
    const w = this.windowMs;
    let sum = 0;
    for (const c of this.charges) {
      if (c.at + w + SETTLE_MS <= now) continue;
      sum += c.cost;
      if (sum >= excess - 1e-9) return c.at + w + SETTLE_MS;
    }
    return undefined;
  }

  /**
   * The start of the bucket a request was booked into: the slot of its start (time.start, whole seconds on
   * current portals: the true start is within the next second), never later than its answer; as late as the
   * figures allow, so its charge never frees before the portal's.
   */
  private bucketOf(r: OperatingReport): number {
    const slot = this.windowMs / 10;
    let latest = r.at;
    if (r.started !== undefined && Number.isFinite(r.started)) {
      latest = Math.min(latest, r.started + (Number.isInteger(r.started / 1000) ? 999 : START_LAG_MS));
    }
    return Math.floor(latest / slot) * slot;
  }

  /**
   * Seconds the portal will have booked at `t` with everything in flight and every reservation ahead of
   * `ticket` (all of them without one): a batch waiting in line is not held up by those sized after it.
   */
  private predicted(t: number, cost: number, ticket = Infinity): number {
    let ahead = this.runningUnits;
    for (const [k, units] of this.reservations) if (k < ticket) ahead += units;
    return this.ownLive(t) + this.foreign + ahead * cost;
  }

  /** Commands that fit at `t` (on top of what is in flight), priced at `cost` > 0. */
  private roomAt(t: number, cost: number): number {
    const left = this.target - this.predicted(t, cost);
    if (this.cross) return left < 0 ? 0 : Math.floor(left / cost + 1e-9) + 1;
    return Math.max(0, Math.floor(left / cost + 1e-9));
  }

  /** Seconds beyond the budget if `units` more commands started now (after those ahead of `ticket`). */
  private excess(now: number, cost: number, units: number, ticket?: number): number {
    // With `cross`, the last command may start just below the limit and end above it.
    const extra = this.cross ? Math.max(0, units - 1) : units;
    return this.predicted(now, cost, ticket) + extra * cost - this.target;
  }

  /**
   * How many commands (at most `max`) the next request should carry: those that fit now when they are at least
   * `least`, else those that fit at the earliest time `least` do (its `wait` then lasts until then). A probe
   * carries one.
   */
  fit(now: number, max: number, least = 1): number {
    if (now < this.blockedUntil || this.probing || this.probeAfterBlock) return Math.min(max, 1);
    const cost = this.worstCost(now);
    if (cost <= 0) return max;
    // Never more than the whole budget holds (such a request could only go once everything expired).
    max = Math.max(1, Math.min(max, this.cross ? Math.floor(this.target / cost) + 1 : Math.floor(this.target / cost + 1e-9)));
    const want = Math.max(1, Math.min(max, least));
    const room = this.roomAt(now, cost);
    if (room >= want) return Math.min(max, room);
    const freeAt = this.freesAt(this.excess(now, cost, want), now);
    if (freeAt === undefined) return Math.max(1, Math.min(max, room));
    return Math.max(1, Math.min(max, this.roomAt(freeAt, cost)));
  }

  /**
   * Milliseconds to wait before a request of `units` commands may start; 0 = now. `ticket`: the request's
   * reservation (reserve()): only reservations made before it are ahead of it.
   */
  wait(now: number, units: number, ticket?: number): number {
    if (now < this.blockedUntil) return this.blockedUntil - now;
    if (this.probeAfterBlock) {
      this.probeAfterBlock = false;
      this.probing = true;
    }
    if (this.probing) {
      // The oldest bucket expired since the last report: let one request find out how much it freed.
      return this.running === 0 ? 0 : 100;
    }
    // The method's first request goes alone: its answer prices the method (its commands' cost is unknown).
    if (!this.priced) return this.running > 0 ? 25 : 0;
    const cost = this.worstCost(now);
    if (cost <= 0 || units === 0) return 0;
    // A request sized before the cost was known may exceed the whole budget: it goes once nothing is ahead of it.
    const whole = (this.cross ? units - 1 : units) * cost > this.target;
    const over = whole ? this.predicted(now, cost, ticket) - EPSILON : this.excess(now, cost, units, ticket);
    if (over <= 0) return 0;
    // While a request is in flight, look again soon: its answer (its true cost) may leave room before then.
    const freeAt = this.freesAt(over, now);
    if (freeAt !== undefined) return Math.max(1, this.running > 0 ? Math.min(freeAt - now, 100) : freeAt - now);
    if (this.running > 0) return 100; // an answer is on its way with fresher numbers
    // Our own charges explain the budget: what frees none of them is requests ahead of this one, which go first.
    if (this.foreign <= EPSILON) return 100;
    const reset = this.resetAt ?? this.at + (this.opts.window * 1000) / 10;
    if (now >= reset) {
      this.probing = true;
      return 0;
    }
    return reset - now + 50;
  }

  /** Holds `units` in line for a request the sender sized; returns its ticket. */
  reserve(units: number): number {
    const ticket = this.nextTicket++;
    this.reservations.set(ticket, units);
    return ticket;
  }

  /** A reservation that will not be sent. */
  release(ticket: number): void {
    this.reservations.delete(ticket);
  }

  /** The request goes now (its reservation, if any, becomes commands in flight). */
  start(_now: number, units: number, ticket?: number): void {
    if (ticket !== undefined) this.reservations.delete(ticket);
    this.runningUnits += units;
    this.running += 1;
  }

  /** The request ended (with or without a report). */
  finish(units: number): void {
    this.runningUnits = Math.max(0, this.runningUnits - units);
    this.running = Math.max(0, this.running - 1);
  }

  /**
   * A report from an answer (envelope `time` or a nested `result_time`). Returns the seconds charged to us:
   * the cost measured inside the request, else the growth of `operating` since the previous report when it is
   * usable, else the per-command estimate.
   */
  observe(r: OperatingReport): number {
    if (!Number.isFinite(r.operating)) return 0;
    this.priced = true;
    this.peak = Math.max(this.peak, r.operating);
    // The growth since the previous report prices a request only when it was alone in flight and nothing
    // expired in between (same reset); `processing` is never used (whole seconds on current portals).
    const delta =
      r.at >= this.at && r.resetAt !== undefined && r.resetAt === this.resetAt && r.operating >= this.operating
        ? r.operating - this.operating
        : undefined;
    // A batch whose commands did not grow its own figures (each under the minimal fix time) is booked only when
    // it ends, as their sum: its own report leaves it out, and the next report's growth is its cost.
    const late = r.unitCost === undefined && r.spent === undefined && !r.bookings?.length && r.units > 1;
    const prior = this.late;
    this.late = undefined;
    let unit: number | undefined;
    if (r.unitCost !== undefined && r.unitCost >= 0) unit = r.unitCost;
    else if (r.spent !== undefined && r.spent > 0 && r.units > 0) unit = r.spent / r.units;
    if (this.running === 0 && delta !== undefined && delta > 0) {
      // The growth holds the late batch's cost, and this request's own unless it is late too.
      const own = late ? 0 : this.knownCost(r);
      if (prior && own !== undefined && delta - own > 0) {
        this.sample(r.at, (delta - own) / prior.units);
        prior.entry.cost = Math.max(0, prior.entry.cost + delta - own - prior.estimate);
      } else if (!prior && unit === undefined && !late && r.units > 0) unit = delta / r.units;
    }
    if (unit !== undefined) this.sample(r.at, unit);
    const bucket = this.bucketOf(r);
    if (r.at >= this.at) {
      // The report counts the buckets up to this request's own (not those of requests started later, whatever
      // their answers said): what our charges there do not explain is someone else's, kept until the next report.
      this.foreign = Math.max(0, r.operating - this.ownIn(bucket) - (late ? 0 : this.chargeOf(r, delta)));
      this.operating = r.operating;
      this.at = r.at;
      this.resetAt = r.resetAt;
      this.probing = false;
    }
    // The portal books the whole request when it ends, into the bucket of its start. A late one is charged at
    // the dearest cost until the next report's growth says what it cost.
    const charged = late ? this.worstCost(r.at) * r.units : this.chargeOf(r, delta);
    if (late) this.late = { units: r.units, estimate: charged, entry: this.charge(bucket, charged) };
    else if (charged > 0) this.charge(bucket, charged);
    return charged;
  }

  /** What a request that reported its own cost is charged: its commands' costs, else the growth it caused. */
  private chargeOf(r: OperatingReport, delta: number | undefined): number {
    return this.knownCost(r) ?? delta ?? (this.perUnit ?? 0) * r.units;
  }

  /** A request's cost from its own figures (its commands' costs or its server seconds); undefined without them. */
  private knownCost(r: OperatingReport): number | undefined {
    if (r.bookings?.length) return r.bookings.reduce((sum, b) => sum + Math.max(0, b.cost), 0);
    if (r.unitCost !== undefined) return r.unitCost * r.units;
    return r.spent;
  }

  /** Our charges in the 10 buckets up to the one starting at `bucket` (what a report from that request counts). */
  private ownIn(bucket: number): number {
    const w = this.windowMs;
    return this.charges.reduce((sum, c) => (c.at <= bucket && c.at + w > bucket ? sum + c.cost : sum), 0);
  }

  private sample(at: number, cost: number): void {
    this.perUnit = this.perUnit === undefined ? cost : 0.7 * this.perUnit + 0.3 * cost;
    this.samples.push({ at, cost });
    const keep = at - 2 * this.opts.window * 1000;
    while (this.samples.length > 1 && (this.samples[0].at < keep || this.samples.length > 400)) this.samples.shift();
  }

  /** One charge; charges close in time are merged (stamped at the latest), GRAINS per window at most. Returns its entry. */
  private charge(at: number, cost: number): { at: number; cost: number } {
    const grain = (this.opts.window * 1000) / GRAINS;
    const last = this.charges[this.charges.length - 1];
    if (last && Math.floor(last.at / grain) === Math.floor(at / grain) && at >= last.at - grain) {
      last.at = Math.max(last.at, at);
      last.cost += cost;
      return last;
    }
    const entry = { at, cost };
    this.charges.push(entry);
    this.charges.sort((a, b) => a.at - b.at);
    const keep = at - 2 * this.opts.window * 1000;
    while (this.charges.length && this.charges[0].at < keep) this.charges.shift();
    return entry;
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
    this.foreign = Math.max(this.foreign, this.opts.limit - this.ownLive(now));
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

  /** What a later chunk needs: the last report, our charges and costs inside the window, merged per bucket. */
  snapshot(now: number): BudgetSnapshot {
    const w = this.opts.window * 1000;
    const slot = w / 10;
    const out: BudgetSnapshot = {
      operating: round(this.operating),
      at: Number.isFinite(this.at) ? Math.round(this.at) : 0,
      charges: perBucket(
        this.charges.filter((c) => c.at + w > now),
        slot,
        (a, b) => a + b,
      ),
      costs: perBucket(
        this.samples.filter((s) => s.at + w > now),
        slot,
        Math.max,
      ),
    };
    if (this.resetAt !== undefined) out.resetAt = Math.round(this.resetAt);
    if (this.perUnit !== undefined) out.perUnit = round(this.perUnit);
    if (this.blockedUntil > now) out.blockedUntil = Math.round(this.blockedUntil);
    return out;
  }

  /** Takes over a predecessor's budget (the portal's later reports overrule it as usual). */
  restore(s: BudgetSnapshot): void {
    if (!Number.isFinite(s.operating) || !Number.isFinite(s.at)) return;
    this.operating = s.operating;
    this.at = s.at;
    this.resetAt = Number.isFinite(s.resetAt) ? s.resetAt : undefined;
    this.perUnit = Number.isFinite(s.perUnit) && (s.perUnit as number) >= 0 ? s.perUnit : undefined;
    this.charges = (Array.isArray(s.charges) ? s.charges : []).filter(valid).map(([at, cost]) => ({ at, cost }));
    this.samples = (Array.isArray(s.costs) ? s.costs : []).filter(valid).map(([at, cost]) => ({ at, cost }));
    this.foreign = Math.max(0, s.operating - this.ownLive(s.at));
    this.priced = true;
    if (s.blockedUntil !== undefined && Number.isFinite(s.blockedUntil)) {
      this.blockedUntil = s.blockedUntil;
      this.probeAfterBlock = true;
    }
  }
}

/** Entries merged per bucket of `slot` ms, each stamped with its latest time (charges then free no earlier). */
function perBucket(list: { at: number; cost: number }[], slot: number, merge: (a: number, b: number) => number): [number, number][] {
  const out: [number, number][] = [];
  let key = Number.NaN;
  for (const e of list) {
    const k = Math.floor(e.at / slot);
    const last = out[out.length - 1];
    if (last && k === key) {
      last[0] = Math.max(last[0], Math.round(e.at));
      last[1] = round(merge(last[1], e.cost));
    } else out.push([Math.round(e.at), round(e.cost)]);
    key = k;
  }
  return out;
}

function valid(p: unknown): p is [number, number] {
  return Array.isArray(p) && p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]) && p[1] >= 0;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
