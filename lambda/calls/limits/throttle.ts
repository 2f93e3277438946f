import { DeadlineError } from '../../errors.ts';
import { OperatingBudget, type OperatingOptions } from './operatingBudget.ts';
import { RateLimiter } from './rateLimiter.ts';

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

  /** Learns from one answer sent at `sentAt` and received at `receivedAt` (local ms). */
  observe(time: PortalTime | undefined, sentAt: number, receivedAt: number): void {
    if (!time) return;
    // Current portals print `start` in whole seconds (SRV rest.php): truncated by up to 1 s, it would pull the
    // midpoint back by up to half a second, differently each time. Only a fractional start is used.
    const s = Number.isInteger(Number(time.start)) ? Number.NaN : Number(time.start);
    const f = Number(time.finish);
    let portalMid: number;
    if (Number.isFinite(s) && Number.isFinite(f) && f >= s) portalMid = ((s + f) / 2) * 1000;
    else if (Number.isFinite(f)) portalMid = f * 1000;
    else if (Number.isFinite(s)) portalMid = s * 1000;
    else return;
    this.samples.push(portalMid - (sentAt + receivedAt) / 2);
    if (this.samples.length > 15) this.samples.shift();
    const sorted = [...this.samples].sort((a, b) => a - b);
    this.offset = sorted[Math.floor(sorted.length / 2)];
  }

  portalNow(): number {
    return this.localNow() + this.offset;
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
  operating?: Partial<Pick<OperatingOptions, 'soft' | 'hard' | 'pace'>>;
  rateMargin?: number;
}

/** What a request bills: each method with its number of commands (a batch: 'batch' plus its nested methods). */
export type Billing = { method: string; units: number }[];

export class Throttle {
  readonly clock: PortalClock;
  readonly rate: RateLimiter;
  private readonly budgets = new Map<string, OperatingBudget>();
  /** Time requests spent waiting here (ms, summed over concurrent waiters). */
  waitedMs = 0;

  constructor(
    private readonly opts: ThrottleOptions,
    localNow: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {
    this.clock = new PortalClock(localNow);
    this.rate = new RateLimiter({ rate: opts.rate, burst: opts.burst, margin: opts.rateMargin });
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

  /** Milliseconds until a request billing `billing` may go (0 = now). */
  waitFor(billing: Billing): number {
    const now = this.clock.portalNow();
    let wait = 0;
    for (const { method, units } of billing) wait = Math.max(wait, this.budget(method).wait(now, units));
    // The request rate is about durations only: it runs on the local clock, untouched by offset updates.
    return Math.max(wait, this.rate.wait(this.clock.localNow()));
  }

  /**
   * Waits until the request may go, then takes its place (rate + in-flight operating). Throws DeadlineError,
   * without waiting, when the wait would end after `deadline` (local ms). Call `done(billing)` afterwards.
   */
  async acquire(billing: Billing, deadline = Infinity): Promise<void> {
    for (;;) {
      const wait = this.waitFor(billing);
      if (wait <= 0) break;
      if (this.clock.localNow() + wait > deadline) throw new DeadlineError(wait);
      this.waitedMs += wait;
      await this.sleep(wait);
    }
    const now = this.clock.portalNow();
    this.rate.take(this.clock.localNow());
    for (const { method, units } of billing) this.budget(method).start(now, units);
  }

  done(billing: Billing): void {
    for (const { method, units } of billing) this.budget(method).finish(units);
  }

  /**
   * Learns from one answer's time object for `method` (the envelope, or a nested result_time); returns the
   * operating seconds it charged to the method. `spent`: server seconds known otherwise (never `processing`,
   * which portals print in whole seconds).
   */
  observe(method: string, time: PortalTime | undefined, units: number, spent?: number): number {
    if (!time || time.operating === undefined) return 0;
    // The latest of the portal's finish and "now" on its clock: never earlier than the charge itself.
    const at = Math.max(time.finish !== undefined ? Number(time.finish) * 1000 : 0, this.clock.portalNow());
    return this.budget(method).observe({
      operating: Number(time.operating),
      resetAt: time.operating_reset_at !== undefined ? Number(time.operating_reset_at) * 1000 : undefined,
      at,
      units,
      spent,
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
