import { DeadlineError } from '../../errors.ts';
import { type BudgetSnapshot, OperatingBudget, type OperatingOptions } from './operatingBudget.ts';
import { RateLimiter, type RateSnapshot } from './rateLimiter.ts';

/**
 * The portal's limits as one gate, on the PORTAL's clock: every answer's `time.start`/`time.finish` give
 * the offset portal − local (NTP-style: the midpoint of the portal's work against the midpoint of our
 * send/receive), so waits for `operating_reset_at` stay right whatever the skew between the two clocks.
 * Composes the request-rate model (RateLimiter) with one OperatingBudget per method.
 */

/** Bitrix24's `time` object (seconds, Unix). */
export interface PortalTime {
  start?: number;
  finish?: number;
  duration?: number;
  processing?: number;
  operating?: number;
  operating_reset_at?: number;
  date_start?: string;
  date_finish?: string;
}

export class PortalClock {
  private samples: number[] = [];
  private offset = 0;

  constructor(readonly localNow: () => number = Date.now) {}

  /** Portal time − local time, ms (0 until the first answer). */
  get offsetMs(): number {
    return this.offset;
  }

  /**
   * Learns from one answer sent at `sentAt` and received at `receivedAt` (local ms). The portal's `finish` came
   * before the answer reached us, so finish − receivedAt is never above the true offset: waits for a bucket's
   * expiry computed with it end late by the answer's transit at most, never early (a batch's midpoint would
   * err by half its server time, either way). The highest of the recent samples is the tightest.
   * (`start`, which current portals print in whole seconds, is not used.)
   */
  observe(time: PortalTime | undefined, _sentAt: number, receivedAt: number): void {
    if (!time) return;
    const f = Number(time.finish);
    if (!Number.isFinite(f)) return;
    this.samples.push(f * 1000 - receivedAt);
    if (this.samples.length > 15) this.samples.shift();
    this.offset = Math.max(...this.samples);
  }

  portalNow(): number {
    return this.localNow() + this.offset;
  }

  /** A predecessor's measured offset, until this chunk's own answers replace it. */
  assume(offsetMs: number): void {
    if (this.samples.length === 0) this.offset = offsetMs;
  }

  /** A portal timestamp (ms) as local ms. */
  toLocal(portalMs: number): number {
    return portalMs - this.offset;
  }
}

export interface ThrottleOptions {
  rate: number;
  burst: number;
  operatingLimit: number;
  operatingWindow: number;
  /** Overrides for the operating zones (fractions of the limit). */
  operating?: Partial<Pick<OperatingOptions, 'hard' | 'cross'>>;
  rateMargin?: number;
}

/** What a request bills: each method with its number of commands (a batch: 'batch' plus its nested methods). */
export type Billing = { method: string; units: number }[];

/** A request's place in line in the budgets, taken when the sender sizes it (before it waits for its turn). */
export interface Reservation {
  /** Each billed method's ticket (OperatingBudget.reserve). */
  readonly tickets: Map<string, number>;
  state: 'held' | 'started' | 'released';
}

/**
 * The pacer's state as a later chunk (a fresh Lambda) takes it over: the request counter, the portal-clock
 * offset and each method's recent charges. JSON, a few hundred bytes per method.
 */
export interface ThrottleSnapshot {
  v: 1;
  /** Portal − local clock, ms. */
  offsetMs: number;
  rate: RateSnapshot;
  budgets: Record<string, BudgetSnapshot>;
}

/**
 * The smallest batch the pacer waits for, as a share of what the budget frees between two requests at the rate
 * limit: where both limits bind, a window's tail sent a few commands at a time spends the requests the next
 * bucket's room needs. Measured (one series, LoadLimiter's buckets): bench/varying 0.1 → 94.3 % of the budget,
 * 1,395 requests; 0.6 → 95.7 %, 1,136 requests; bench/window 0.1 → 103.1 s (older pacer), 0.6 → 100.8 s.
 */
const LEAST = 0.6;

export class Throttle {
  readonly clock: PortalClock;
  readonly rate: RateLimiter;
  private readonly budgets = new Map<string, OperatingBudget>();
  private waiters = 0;
  private waitingSince = 0;
  /** Requests sent and not yet ended; until the first ends, no other goes (see waitFor). */
  private running = 0;
  private ended = false;
  private waitedTotal = 0;

  constructor(
    private readonly opts: ThrottleOptions,
    localNow: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {
    this.clock = new PortalClock(localNow);
    this.rate = new RateLimiter({ rate: opts.rate, burst: opts.burst, margin: opts.rateMargin });
  }

  /** Wall time (ms) during which at least one request or the sender was waiting here (not summed over waiters). */
  get waitedMs(): number {
    return this.waitedTotal + (this.waiters > 0 ? this.clock.localNow() - this.waitingSince : 0);
  }

  /** Sleeps `ms`, counted in waitedMs as wall time (overlapping waits count once). */
  async pause(ms: number): Promise<void> {
    if (this.waiters++ === 0) this.waitingSince = this.clock.localNow();
    try {
      await this.sleep(ms);
    } finally {
      if (--this.waiters === 0) this.waitedTotal += this.clock.localNow() - this.waitingSince;
    }
  }

  budget(method: string): OperatingBudget {
    let b = this.budgets.get(method);
    if (!b) {
      b = new OperatingBudget({ limit: this.opts.operatingLimit, window: this.opts.operatingWindow, ...this.opts.operating });
      this.budgets.set(method, b);
    }
    return b;
  }

  /** Highest operating seconds any method reported. */
  peakOperating(): number {
    let p = 0;
    for (const b of this.budgets.values()) p = Math.max(p, b.peak);
    return p;
  }

  /** Milliseconds until a request billing `billing` may go (0 = now); `reservation`: its place in line. */
  waitFor(billing: Billing, reservation?: Reservation): number {
    const now = this.clock.portalNow();
    let wait = 0;
    const held = reservation?.state === 'held' ? reservation.tickets : undefined;
    for (const { method, units } of billing) wait = Math.max(wait, this.budget(method).wait(now, units, held?.get(method)));
    // The first request of a run goes alone: its answer gives the clock offset, the costs, and where the
    // portal lives (a renamed portal's redirect is then followed once, not by every request in flight).
    if (!this.ended && this.running > 0) wait = Math.max(wait, 25);
    // The request rate is about durations only: it runs on the local clock, untouched by offset updates.
    return Math.max(wait, this.rate.wait(this.clock.localNow()));
  }

  /**
   * How many commands (at most `max`) of `methods` the next request should carry so that no budget is
   * exceeded: what fits now, or at the earliest time a command does (the request then waits until then).
   */
  fit(methods: readonly string[], max: number): number {
    const now = this.clock.portalNow();
    let n = max;
    for (const m of methods) {
      const b = this.budget(m);
      // Not a crumb at a time: a request carries at least what the budget frees between two requests the
      // rate allows (else the window's tail would go in batches of one, spending requests for nothing).
      const cost = b.worstCost(now);
      const least = cost > 0 ? Math.ceil((LEAST * this.opts.operatingLimit) / this.opts.operatingWindow / this.opts.rate / cost) : 1;
      n = Math.min(n, b.fit(now, max, least));
    }
    return Math.max(1, n);
  }

  /** Puts a sized request in line at once, so requests sized after it leave room for it. */
  reserve(billing: Billing): Reservation {
    const tickets = new Map<string, number>();
    for (const { method, units } of billing) tickets.set(method, this.budget(method).reserve(units));
    return { tickets, state: 'held' };
  }

  /** A reservation whose request will not go. */
  release(r: Reservation | undefined): void {
    if (r?.state !== 'held') return;
    r.state = 'released';
    for (const [method, ticket] of r.tickets) this.budget(method).release(ticket);
  }

  /**
   * Waits until the request may go, then takes its place (rate + in-flight operating). Throws DeadlineError,
   * without waiting, when the wait would end after `deadline` (local ms). Call `done(billing)` afterwards.
   * `reservation` (from reserve(), same billing): its place in line; released if this throws.
   */
  async acquire(billing: Billing, deadline = Infinity, reservation?: Reservation): Promise<void> {
    try {
      for (;;) {
        const wait = this.waitFor(billing, reservation);
        if (wait <= 0) break;
        if (this.clock.localNow() + wait > deadline) throw new DeadlineError(wait);
        await this.pause(wait);
      }
    } catch (e) {
      this.release(reservation);
      throw e;
    }
    const now = this.clock.portalNow();
    this.rate.take(this.clock.localNow());
    const held = reservation?.state === 'held' ? reservation.tickets : undefined;
    for (const { method, units } of billing) this.budget(method).start(now, units, held?.get(method));
    // Tickets of methods the request does not bill after all are given back.
    if (held) for (const [m, t] of held) if (!billing.some((b) => b.method === m)) this.budget(m).release(t);
    if (reservation && held) reservation.state = 'started';
    this.running += 1;
  }

  done(billing: Billing): void {
    for (const { method, units } of billing) this.budget(method).finish(units);
    this.running = Math.max(0, this.running - 1);
    this.ended = true;
  }

  /** The pacer's state for the next chunk (see ThrottleSnapshot). */
  snapshot(): ThrottleSnapshot {
    const now = this.clock.portalNow();
    const budgets: Record<string, BudgetSnapshot> = {};
    for (const [m, b] of this.budgets) {
      const s = b.snapshot(now);
      if (s.charges.length > 0 || s.operating > 0 || s.blockedUntil !== undefined) budgets[m] = s;
    }
    return { v: 1, offsetMs: Math.round(this.clock.offsetMs), rate: this.rate.snapshot(this.clock.localNow()), budgets };
  }

  /** Starts from a predecessor's snapshot (anything malformed is ignored: the portal's answers correct it). */
  restore(s: ThrottleSnapshot | undefined): void {
    if (s?.v !== 1) return;
    this.ended = true; // a later chunk knows the portal already
    if (Number.isFinite(s.offsetMs)) this.clock.assume(s.offsetMs);
    if (s.rate && typeof s.rate === 'object') this.rate.restore(s.rate);
    const budgets = s.budgets && typeof s.budgets === 'object' ? s.budgets : {};
    for (const [m, b] of Object.entries(budgets)) if (b && typeof b === 'object') this.budget(m).restore(b);
  }

  /**
   * Learns from one answer's time object for `method` (the envelope, or a nested result_time); returns the
   * operating seconds it charged to the method. `spent`: server seconds known otherwise (never `processing`,
   * which portals print in whole seconds).
   */
  observe(
    method: string,
    time: PortalTime | undefined,
    units: number,
    spent?: number,
    unitCost?: number,
    bookings?: { at: number; cost: number }[],
  ): number {
    if (!time || time.operating === undefined) return 0;
    // The latest of the portal's finish and "now" on its clock: never earlier than the charge itself.
    const at = Math.max(time.finish !== undefined ? Number(time.finish) * 1000 : 0, this.clock.portalNow());
    return this.budget(method).observe({
      operating: Number(time.operating),
      resetAt: time.operating_reset_at !== undefined ? Number(time.operating_reset_at) * 1000 : undefined,
      at,
      started: time.start !== undefined && Number.isFinite(Number(time.start)) ? Number(time.start) * 1000 : undefined,
      units,
      spent,
      unitCost,
      bookings,
    });
  }

  /** 503 QUERY_LIMIT_EXCEEDED. */
  refused(): void {
    this.rate.refused(this.clock.localNow());
  }

  /** 429 / OPERATION_TIME_LIMIT for `method`; resetAt in Unix seconds when the answer gave one. */
  blocked(method: string, resetAtSeconds?: number): void {
    const now = this.clock.portalNow();
    this.budget(method).blocked(now, resetAtSeconds !== undefined ? resetAtSeconds * 1000 : undefined);
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
