/**
 * Seeded, deterministic fault injection. Each request, in arrival order, draws the same number of values from
 * a mulberry32 PRNG (one per fault kind), so a given seed and request sequence always fault the same way,
 * whatever the probabilities of the other kinds.
 */

export interface FaultOptions {
  /** P(500 INTERNAL_SERVER_ERROR, nothing applied). */
  internalError?: number;
  /** P(502 with an HTML body, nothing applied). */
  badGateway?: number;
  /** P(apply, then drop the connection without answering). */
  resetAfterApply?: number;
  /** P(answer `slowMs` later). */
  slow?: number;
  slowMs?: number;
  /** The manual REST block (503 OVERLOAD_LIMIT) switches on after this many requests (counted from start or the last setFaults). */
  overloadAfter?: number;
  /** Manual block on/off right now. */
  overload?: boolean;
  /** P(500 ERROR_CORE "SQL query error!", e.g. a deadlock) for a direct call; nothing applied. Not drawn for `batch` itself. */
  sqlError?: number;
  /** P(ERROR_CORE for one command inside a batch, in its result_error); that command is not applied. */
  sqlErrorCommand?: number;
}

export interface FaultDecision {
  internalError: boolean;
  badGateway: boolean;
  resetAfterApply: boolean;
  slowMs: number;
}

/** mulberry32: tiny, fast, good enough for test decisions. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  private opts: FaultOptions;
  private readonly rand: () => number;
  /** A second stream for the faults added later (ERROR_CORE), so the first four draws per request stay as they were. */
  private readonly extra: () => number;
  private requests = 0;
  private manual = false;

  constructor(opts: FaultOptions = {}, seed = 1) {
    this.opts = { ...opts };
    this.manual = !!opts.overload;
    this.rand = mulberry32(seed);
    this.extra = mulberry32(seed ^ 0x5eed_c0de);
  }

  set(opts: FaultOptions): void {
    this.opts = { ...opts };
    this.requests = 0;
    if (opts.overload !== undefined) this.manual = opts.overload;
  }

  setOverload(on: boolean): void {
    this.manual = on;
  }

  /** Is the portal under the manual block for this request? Counts the request. */
  overloaded(): boolean {
    this.requests++;
    const after = this.opts.overloadAfter;
    if (after !== undefined && this.requests > after) this.manual = true;
    return this.manual;
  }

  /** Draws this request's faults (always four draws, in a fixed order). */
  decide(): FaultDecision {
    const [a, b, c, d] = [this.rand(), this.rand(), this.rand(), this.rand()];
    const o = this.opts;
    return {
      internalError: a < (o.internalError ?? 0),
      badGateway: b < (o.badGateway ?? 0),
      resetAfterApply: c < (o.resetAfterApply ?? 0),
      slowMs: d < (o.slow ?? 0) ? (o.slowMs ?? 2000) : 0,
    };
  }

  /** ERROR_CORE for a direct call (one draw from the second stream). */
  sqlError(): boolean {
    return this.extra() < (this.opts.sqlError ?? 0);
  }

  /** ERROR_CORE for one batch command (one draw from the second stream). */
  sqlErrorCommand(): boolean {
    return this.extra() < (this.opts.sqlErrorCommand ?? 0);
  }
}
