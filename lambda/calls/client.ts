import type { PortalLimits } from '../config.ts';
import { DeadlineError, DeferredError, PortalError, RunHaltedError, TransientError } from '../errors.ts';
import type { BatchResult, PortalApi, PortalErrorBody, SendStats } from '../types.ts';
import { BACKOFF_BASE_MS, backoffDelay } from './backoff.ts';
import { batchBilling, methodOfKey, resetAt, timeOf, unwrapBatch } from './http/batchBody.ts';
import { observeTimes } from './http/observe.ts';
import { reachFrom } from './http/reach.ts';
import { type Answer, WebhookTransport } from './http/transport.ts';
import { classify, commandKind, haltMessage, isOversize, LIMIT_CODES, type LimitKind, networkFailure } from './http/verdict.ts';
import { type Billing, type PortalTime, type Reservation, Throttle, type ThrottleOptions } from './limits/throttle.ts';

/**
 * HTTP to one portal through its incoming webhook. Every request passes the Throttle (rate + operating
 * budget on the portal's clock) and is classified by its `error` code FIRST, status second:
 * - QUERY_LIMIT_EXCEEDED (503): the rate model is reset to full and the request waits and goes again;
 * - OPERATION_TIME_LIMIT (429): the method is blocked until operating_reset_at + 1 s, then goes again;
 *   both without a limit on attempts, but never past the caller's deadline (DeferredError);
 * - OVERLOAD_LIMIT (also 503) and the auth/plan codes: RunHaltedError, the run stops;
 * - INTERNAL_SERVER_ERROR, ERROR_UNEXPECTED_ANSWER, other 5xx (HTML 502…), resets and timeouts: transient.
 *   The write may have been applied, so the client retries these (4 times, exponential backoff with
 *   jitter) only when the caller says the request is idempotent; otherwise it throws TransientError and
 *   the sender decides (re-plan, or report AMBIGUOUS_WRITE);
 * - a batch too large or too slow (413, an HTML 5xx page, 504, a timeout, an answer past the body cap) is not re-sent as it was: it throws
 *   TransientError for the caller to send the work in smaller batches (`batch` splits reads itself);
 * - anything else: PortalError(code, description, status) ('' code for crm's "Not found").
 * A 301–308 from a renamed portal is followed by re-POSTing the same body to the Location, remembered for
 * later, only to a Bitrix24 cloud host or an allowed one with a whole webhook path (else PORTAL_MOVED halts).
 * The webhook host itself is never an IP, private or link-local address; loopback only in local mode.
 * Nothing thrown or logged carries the webhook URL or code: messages are built from the host and redacted.
 *
 * The parts live in http/: the code table (verdict.ts), the HTTP exchange (transport.ts), reading answer
 * bodies (batchBody.ts) and feeding the throttle (observe.ts); this file is the retry loop.
 */

export { asMap, batchBilling, timeOf, unwrapBatch } from './http/batchBody.ts';
export { DEFAULT_MAX_BODY_BYTES } from './http/bodyCap.ts';

/** Above the portal's 60 s cap on one request: a timeout equal to the cap cuts answers that were about to arrive. */
export const DEFAULT_TIMEOUT_MS = 75_000;
export { classify, HALT_CODES, type Verdict } from './http/verdict.ts';

export interface ClientOptions {
  webhookUrl: string;
  limits: PortalLimits;
  /** Per-request timeout, ms (default 75 000: above the portal's own 60 s cap, so answers about to arrive are not cut). */
  timeoutMs?: number;
  /**
   * Largest answer body read, bytes (default 64 MiB): past it the connection is dropped and the request fails
   * as transient RESPONSE_TOO_LARGE (a batch's work goes again in smaller batches, as after a 413).
   */
  maxBodyBytes?: number;
  /**
   * The local sandbox: http:// and loopback hosts allowed (default: B24_LOCAL_MODE=1). Never inside a Lambda,
   * whatever this says (the Runtime API listens on 127.0.0.1:9001).
   */
  localMode?: boolean;
  /**
   * Hosts besides Bitrix24's cloud zones a redirect may move the webhook to: names or `*.suffix` (default:
   * B24_ALLOWED_HOSTS). Any other redirect halts the run with PORTAL_MOVED.
   */
  allowedHosts?: readonly string[];
  fetch?: typeof fetch;
  /** Local clock, ms (default Date.now). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Retries of transient failures for idempotent requests (default 4). */
  maxRetries?: number;
  /** Base of the exponential backoff, ms (default 500). */
  backoffMs?: number;
  /** Redacted one-line events (retries, waits). */
  log?: (line: string) => void;
  /** Overrides for the throttle's operating zones / rate margin (tuning, benches). */
  throttle?: Pick<ThrottleOptions, 'operating' | 'rateMargin'>;
}

export interface PostOptions {
  deadline?: number;
  /** What the request bills against the operating budgets. */
  billing: Billing;
  /** May a transient failure be retried here (reads, sets without appends)? */
  idempotent: boolean;
  /** Called for each send the portal may have acted on (not for limit refusals). */
  onSend?: () => void;
  /** The place the sender reserved for this request when it sized it (Throttle.reserve, same billing). */
  reservation?: Reservation;
}

interface Counters {
  retries: number;
  backoffMs: number;
  limitErrors: Record<string, number>;
  operatingSeconds: number;
  writes: number;
  reads: number;
}

export class PortalClient implements PortalApi {
  readonly host: string;
  readonly throttle: Throttle;
  readonly sleep: (ms: number) => Promise<void>;
  /** Per-request timeout, ms: the sender waits as long again before re-reading after a timed-out write. */
  readonly timeoutMs: number;
  private readonly transport: WebhookTransport;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly log: (line: string) => void;
  private readonly c: Counters = { retries: 0, backoffMs: 0, limitErrors: {}, operatingSeconds: 0, writes: 0, reads: 0 };

  constructor(opts: ClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.transport = new WebhookTransport(opts.webhookUrl, {
      fetch: opts.fetch ?? globalThis.fetch,
      timeoutMs: this.timeoutMs,
      maxBodyBytes: opts.maxBodyBytes,
      log: (line) => this.log(line),
      reach: reachFrom(opts),
    });
    this.host = this.transport.host;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
    this.maxRetries = opts.maxRetries ?? 4;
    this.backoffMs = opts.backoffMs ?? BACKOFF_BASE_MS;
    const logger = opts.log ?? (() => {});
    this.log = (line) => logger(this.redact(line));
    const { rate, burst, operatingLimit, operatingWindow } = opts.limits;
    this.throttle = new Throttle({ rate, burst, operatingLimit, operatingWindow, ...opts.throttle }, this.now, this.sleep);
  }

  /** Removes the webhook URL and code (every one seen, redirects included) from any text. */
  redact(text: string): string {
    return this.transport.redact(text);
  }

  stats(): SendStats {
    return {
      requests: this.transport.requests,
      retries: this.c.retries,
      // Wall time spent waiting (pacing and backoffs), overlapping waits of parallel requests counted once.
      throttledMs: Math.round(this.throttle.waitedMs),
      limitErrors: { ...this.c.limitErrors },
      operatingSeconds: Math.round(this.c.operatingSeconds * 1000) / 1000,
      writes: this.c.writes,
      reads: this.c.reads,
    };
  }

  /** Counts an error answer by code (also used by the sender for errors inside batches). */
  countLimit(code: string): void {
    this.c.limitErrors[code] = (this.c.limitErrors[code] ?? 0) + 1;
  }

  countCommands(kind: 'writes' | 'reads', n: number): void {
    this.c[kind] += n;
  }

  /**
   * A request or batch command a limit refused (it did not run): counted, and the throttle learns of it
   * (the rate model is reset, or each of `methods` is blocked until `time`'s operating reset).
   */
  limitRefused(kind: LimitKind, methods: string[], time: PortalTime | undefined): void {
    this.countLimit(LIMIT_CODES[kind]);
    if (kind === 'rate') this.throttle.refused();
    else for (const m of methods) this.throttle.blocked(m, resetAt(time));
  }

  /** One method call (reads: retried on transient failures). Resolves with `result`. */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}, opts: { deadline?: number } = {}): Promise<T> {
    this.c.reads += 1;
    const body = await this.post(method, params, { deadline: opts.deadline, billing: [{ method, units: 1 }], idempotent: true });
    return (body as { result: T }).result;
  }

  /**
   * A batch of (read) commands, retried on transient failures: do not use it for appending writes.
   * A command the portal refused for a limit inside the 200 answer (OPERATION_TIME_LIMIT for its method,
   * QUERY_LIMIT_EXCEEDED) did not run: the throttle learns of it and that command alone goes again, like a
   * refused request, within `deadline` (DeferredError past it). A command that failed transiently (ERROR_CORE…)
   * is read again a bounded number of times, with the backoff. A halt code for one command stops the run
   * (RunHaltedError). Only real command errors reach the caller.
   */
  async batch(cmd: Record<string, string>, opts: { halt?: boolean; deadline?: number } = {}): Promise<BatchResult> {
    const out: BatchResult = { result: {}, errors: {} };
    const tries = new Map<string, number>();
    let todo = cmd;
    for (;;) {
      this.c.reads += Object.keys(todo).length;
      const billing = batchBilling(todo);
      let body: unknown;
      try {
        body = await this.post('batch', { halt: opts.halt ? 1 : 0, cmd: todo }, { deadline: opts.deadline, billing, idempotent: true });
      } catch (e) {
        if (!(e instanceof TransientError) || !isOversize(e.code) || Object.keys(todo).length < 2) throw e;
        return this.batchInHalves(todo, opts, out);
      }
      const { again, failed } = this.collect(todo, body, billing, out, tries);
      if (Object.keys(again).length === 0) return out;
      if (failed.size) await this.backOffCommands(failed, tries, opts.deadline ?? Infinity, out);
      todo = Object.fromEntries(Object.entries(again).filter(([k]) => !(k in out.errors)));
      if (Object.keys(todo).length === 0) return out;
      this.log(`${this.host}: ${Object.keys(todo).length} batch command(s) refused or failed, sending them again`);
    }
  }

  /** A read too large or too slow for one request: each half goes on its own (halving again if need be). */
  private async batchInHalves(
    todo: Record<string, string>,
    opts: { halt?: boolean; deadline?: number },
    out: BatchResult,
  ): Promise<BatchResult> {
    const keys = Object.keys(todo);
    const half = Math.ceil(keys.length / 2);
    this.log(`${this.host}: a read of ${keys.length} commands was too large or too slow, reading it in halves`);
    for (const part of [keys.slice(0, half), keys.slice(half)]) {
      const r = await this.batch(Object.fromEntries(part.map((k) => [k, todo[k]])), opts);
      Object.assign(out.result, r.result);
      Object.assign(out.errors, r.errors);
    }
    return out;
  }

  /**
   * Copies the answered commands of `todo` into `out`; returns those to send again (refused by a limit, or
   * failed transiently with tries left: `failed`, with their errors). Throws RunHaltedError on a halt code.
   */
  private collect(
    todo: Record<string, string>,
    body: unknown,
    billing: Billing,
    out: BatchResult,
    tries: Map<string, number>,
  ): { again: Record<string, string>; failed: Map<string, PortalErrorBody> } {
    const { result, errors } = unwrapBatch(body);
    const again: Record<string, string> = {};
    const failed = new Map<string, PortalErrorBody>();
    for (const key of Object.keys(todo)) {
      const err = errors[key];
      const kind = err ? commandKind(err) : undefined;
      if (kind === 'rate' || kind === 'operating') {
        // A refused command has no result_time: the method's reset comes from its own budget.
        this.limitRefused(kind, [methodOfKey(billing, key) ?? 'batch'], undefined);
        again[key] = todo[key];
        continue;
      }
      if (err && kind === 'halt') {
        const code = String(err.error);
        this.countLimit(code);
        throw new RunHaltedError(code, haltMessage(code, this.redact(String(err.error_description ?? '')), this.host));
      }
      if (err && kind === 'transient' && (tries.get(key) ?? 0) < this.maxRetries) {
        this.countLimit(String(err.error));
        failed.set(key, err);
        again[key] = todo[key];
        continue;
      }
      if (key in result) out.result[key] = result[key];
      if (err) out.errors[key] = err;
    }
    return { again, failed };
  }

  /** Waits the backoff before commands that failed transiently go again; past the deadline they keep their error. */
  private async backOffCommands(
    failed: Map<string, PortalErrorBody>,
    tries: Map<string, number>,
    deadline: number,
    out: BatchResult,
  ): Promise<void> {
    let n = 0;
    for (const key of failed.keys()) {
      tries.set(key, (tries.get(key) ?? 0) + 1);
      n = Math.max(n, tries.get(key) ?? 0);
    }
    const wait = backoffDelay(n, this.random(), this.backoffMs);
    if (this.now() + wait > deadline) {
      for (const [key, err] of failed) out.errors[key] = err;
      return;
    }
    this.c.retries += failed.size;
    this.c.backoffMs += wait;
    await this.throttle.pause(wait);
  }

  /**
   * Sends one request through the throttle with retries by class; resolves with the parsed JSON body.
   * Rejects with RunHaltedError, DeferredError, TransientError or PortalError (all redacted).
   */
  async post(method: string, params: Record<string, unknown>, opts: PostOptions): Promise<unknown> {
    const deadline = opts.deadline ?? Infinity;
    const payload = JSON.stringify(params);
    let transientTries = 0;
    for (let attempt = 0; ; attempt++) {
      // The sender's reservation holds the first attempt's place; a retry queues afresh.
      await this.acquire(opts.billing, deadline, attempt === 0 ? opts.reservation : undefined);
      if (attempt > 0) this.c.retries += 1;
      const sentAt = this.now();
      let answer: Answer;
      try {
        answer = await this.transport.exchange(method, payload);
      } catch (e) {
        this.throttle.done(opts.billing);
        if (e instanceof RunHaltedError) throw e;
        opts.onSend?.();
        const { code, description } = networkFailure(e, this.timeoutMs);
        this.countLimit(code);
        await this.retryTransient(transientTries++, this.mayResend(code, method, opts), deadline, { code, description, status: 0 });
        continue;
      }
      this.throttle.done(opts.billing);
      const receivedAt = this.now();
      const time = timeOf(answer.body);
      this.throttle.clock.observe(time, sentAt, receivedAt);
      const verdict = classify(answer.status, answer.body);
      if (verdict.kind === 'ok') {
        this.throttle.rate.accepted();
        this.c.operatingSeconds += observeTimes(this.throttle, method, answer.body, opts.billing);
        opts.onSend?.();
        return answer.body;
      }
      if (verdict.kind === 'rate' || verdict.kind === 'operating') {
        this.limitRefused(
          verdict.kind,
          opts.billing.map((b) => b.method),
          time,
        );
        this.log(
          verdict.kind === 'rate'
            ? `${this.host}: 503 QUERY_LIMIT_EXCEEDED, slowing down`
            : `${this.host}: 429 OPERATION_TIME_LIMIT for ${method}, waiting for the oldest bucket to reset`,
        );
        continue;
      }
      this.countLimit(verdict.code || `HTTP_${answer.status}`);
      const description = this.redact(verdict.description);
      if (verdict.kind === 'halt') throw new RunHaltedError(verdict.code, haltMessage(verdict.code, description, this.host));
      opts.onSend?.();
      if (verdict.kind === 'final') throw new PortalError(verdict.code, description, answer.status);
      await this.retryTransient(transientTries++, this.mayResend(verdict.code, method, opts), deadline, {
        code: verdict.code,
        description,
        status: answer.status,
      });
    }
  }

  /**
   * May this request go again as it was after a transient failure? Only when it is idempotent, and not when
   * it is a batch that was too large or too slow: the same body would fare no better; the caller (which knows
   * the rows) sends the work in smaller batches.
   */
  private mayResend(code: string, method: string, opts: PostOptions): boolean {
    return opts.idempotent && !(isOversize(code) && method === 'batch');
  }

  /** Waits for the throttle; a wait past the deadline becomes DeferredError (the request never started). */
  private async acquire(billing: Billing, deadline: number, reservation?: Reservation): Promise<void> {
    try {
      await this.throttle.acquire(billing, deadline, reservation);
    } catch (e) {
      if (e instanceof DeadlineError) throw new DeferredError(`${this.host}: ${e.message}`);
      throw e;
    }
  }

  /**
   * After the `tries`-th transient failure: waits the backoff when the request may go again (idempotent, tries
   * left, the wait ends before the deadline), else throws TransientError for the caller to decide.
   */
  private async retryTransient(
    tries: number,
    idempotent: boolean,
    deadline: number,
    failure: { code: string; description: string; status: number },
  ): Promise<void> {
    const { code, description } = failure;
    if (!idempotent || tries >= this.maxRetries) throw new TransientError(code, `${this.host}: ${description}`, failure.status);
    const n = tries + 1;
    const wait = backoffDelay(n, this.random(), this.backoffMs);
    if (this.now() + wait > deadline) throw new TransientError(code, `${this.host}: ${description}`, 0);
    this.log(`${this.host}: ${code}, retry ${n} in ${wait} ms`);
    this.c.backoffMs += wait;
    await this.throttle.pause(wait);
  }
}

/** Builds the client for one webhook. */
export function createClient(opts: ClientOptions): PortalClient {
  return new PortalClient(opts);
}
