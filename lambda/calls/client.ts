import type { PortalLimits } from '../config.ts';
import { DeadlineError, DeferredError, PortalError, RunHaltedError, TransientError } from '../errors.ts';
import type { BatchResult, PortalApi, PortalErrorBody, SendStats } from '../types.ts';
import { type Billing, Throttle, type PortalTime, type ThrottleOptions } from './limits/throttle.ts';
import { parseWebhook, rebase, redact, type Webhook } from './webhook.ts';

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
 * - ERROR_BATCH_LENGTH_EXCEEDED: thrown as PortalError for the sender to split the batch;
 * - anything else: PortalError(code, description, status) ('' code for crm's "Not found").
 * A 302 (renamed portal) is followed by re-POSTing the same body to the Location, remembered for later.
 * Nothing thrown or logged carries the webhook URL or code: messages are built from the host and redacted.
 */

export interface ClientOptions {
  webhookUrl: string;
  limits: PortalLimits;
  /** Per-request timeout, ms (default 60 000, the portal's own cap on one request). */
  timeoutMs?: number;
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

/** Codes after which no call can succeed in this run. */
export const HALT_CODES = new Set([
  'OVERLOAD_LIMIT',
  'ACCESS_DENIED',
  'INVALID_CREDENTIALS',
  'NO_AUTH_FOUND',
  'insufficient_scope',
  'expired_token',
  'invalid_token',
  'PORTAL_DELETED',
  'user_access_error',
  'INVALID_REQUEST',
  'WRONG_AUTH_TYPE',
]);

const TRANSIENT_CODES = new Set(['INTERNAL_SERVER_ERROR', 'ERROR_UNEXPECTED_ANSWER']);

export type Verdict =
  | { kind: 'ok' }
  | { kind: 'rate' }
  | { kind: 'operating' }
  | { kind: 'halt'; code: string; description: string }
  | { kind: 'transient'; code: string; description: string }
  | { kind: 'final'; code: string; description: string };

/** Classifies one HTTP answer: by the `error` code first, the status second. Pure. */
export function classify(status: number, body: unknown): Verdict {
  const err = errorOf(body);
  if (err) {
    const { error: code, error_description: description } = err;
    if (code === 'QUERY_LIMIT_EXCEEDED') return { kind: 'rate' };
    if (code === 'OPERATION_TIME_LIMIT') return { kind: 'operating' };
    if (HALT_CODES.has(code)) return { kind: 'halt', code, description };
    if (TRANSIENT_CODES.has(code)) return { kind: 'transient', code, description };
    if (code === '' && status >= 500) return { kind: 'transient', code: `HTTP_${status}`, description };
    return { kind: 'final', code, description };
  }
  if (status >= 200 && status < 300 && body !== undefined) return { kind: 'ok' };
  if (status === 429) return { kind: 'operating' };
  if (status >= 500 || status === 408 || (status >= 200 && status < 300)) {
    return { kind: 'transient', code: `HTTP_${status}`, description: `unexpected answer (HTTP ${status})` };
  }
  return { kind: 'final', code: `HTTP_${status}`, description: `unexpected answer (HTTP ${status})` };
}

function errorOf(body: unknown): PortalErrorBody | undefined {
  if (!body || typeof body !== 'object' || !('error' in body)) return undefined;
  const b = body as Record<string, unknown>;
  return { error: String(b.error ?? ''), error_description: String(b.error_description ?? '') };
}

export interface PostOptions {
  deadline?: number;
  /** What the request bills against the operating budgets. */
  billing: Billing;
  /** May a transient failure be retried here (reads, sets without appends)? */
  idempotent: boolean;
  /** Called for each send the portal may have acted on (not for limit refusals). */
  onSend?: () => void;
}

interface Counters {
  requests: number;
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
  private webhook: Webhook;
  private readonly secrets: string[];
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Per-request timeout, ms: the sender waits as long again before re-reading after a timed-out write. */
  readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly log: (line: string) => void;
  private readonly c: Counters = { requests: 0, retries: 0, backoffMs: 0, limitErrors: {}, operatingSeconds: 0, writes: 0, reads: 0 };

  constructor(opts: ClientOptions) {
    this.webhook = parseWebhook(opts.webhookUrl);
    this.host = this.webhook.host;
    this.secrets = [this.webhook.code];
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxRetries = opts.maxRetries ?? 4;
    this.backoffMs = opts.backoffMs ?? 500;
    const logger = opts.log ?? (() => {});
    this.log = (line) => logger(this.redact(line));
    const { rate, burst, operatingLimit, operatingWindow } = opts.limits;
    this.throttle = new Throttle({ rate, burst, operatingLimit, operatingWindow, ...opts.throttle }, this.now, this.sleep);
  }

  /** Removes the webhook URL and code from any text. */
  redact(text: string): string {
    return redact(text, ...this.secrets);
  }

  stats(): SendStats {
    return {
      requests: this.c.requests,
      retries: this.c.retries,
      throttledMs: Math.round(this.throttle.waitedMs + this.c.backoffMs),
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
   * refused request, within `deadline` (DeferredError past it). Only real command errors reach the caller.
   */
  async batch(cmd: Record<string, string>, opts: { halt?: boolean; deadline?: number } = {}): Promise<BatchResult> {
    const out: BatchResult = { result: {}, errors: {} };
    let todo = cmd;
    for (;;) {
      this.c.reads += Object.keys(todo).length;
      const billing = batchBilling(todo);
      const body = await this.post('batch', { halt: opts.halt ? 1 : 0, cmd: todo }, { deadline: opts.deadline, billing, idempotent: true });
      const { result, errors } = unwrapBatch(body);
      const times = asMap((body as { result?: { result_time?: unknown } }).result?.result_time) as Record<string, PortalTime | undefined>;
      const again: Record<string, string> = {};
      for (const key of Object.keys(todo)) {
        const err = errors[key];
        const code = err ? String(err.error ?? '') : '';
        if (code === 'OPERATION_TIME_LIMIT' || code === 'QUERY_LIMIT_EXCEEDED') {
          this.countLimit(code);
          if (code === 'QUERY_LIMIT_EXCEEDED') this.throttle.refused();
          else {
            const reset = times[key]?.operating_reset_at;
            this.throttle.blocked((billing as BillingWithKeys).byKey?.get(key) ?? 'batch', reset !== undefined ? Number(reset) : undefined);
          }
          again[key] = todo[key];
          continue;
        }
        if (key in result) out.result[key] = result[key];
        if (err) out.errors[key] = err;
      }
      if (Object.keys(again).length === 0) return out;
      this.log(`${this.host}: ${Object.keys(again).length} batch command(s) refused by a limit, sending them again`);
      todo = again;
    }
  }

  /**
   * Sends one request through the throttle with retries by class; resolves with the parsed JSON body.
   * Rejects with RunHaltedError, DeferredError, TransientError or PortalError (all redacted).
   */
  async post(method: string, params: Record<string, unknown>, opts: PostOptions): Promise<unknown> {
    const deadline = opts.deadline ?? Infinity;
    const payload = JSON.stringify(params);
    let transientTries = 0;
    let first = true;
    for (;;) {
      try {
        await this.throttle.acquire(opts.billing, deadline);
      } catch (e) {
        if (e instanceof DeadlineError) throw new DeferredError(`${this.host}: ${e.message}`);
        throw e;
      }
      if (!first) this.c.retries += 1;
      first = false;
      const sentAt = this.now();
      let answer: { status: number; body: unknown };
      try {
        answer = await this.send(method, payload);
      } catch (e) {
        this.throttle.done(opts.billing);
        if (e instanceof RunHaltedError) throw e;
        opts.onSend?.();
        const { code, description } = networkFailure(e, this.timeoutMs);
        this.countLimit(code);
        if (!opts.idempotent || transientTries >= this.maxRetries) throw new TransientError(code, `${this.host}: ${description}`, 0);
        await this.backoff(++transientTries, deadline, code, description);
        continue;
      }
      this.throttle.done(opts.billing);
      const receivedAt = this.now();
      const time = timeOf(answer.body);
      this.throttle.clock.observe(time, sentAt, receivedAt);
      const verdict = classify(answer.status, answer.body);
      if (verdict.kind === 'ok') {
        this.throttle.rate.accepted();
        this.observeTimes(method, answer.body, opts.billing);
        opts.onSend?.();
        return answer.body;
      }
      if (verdict.kind === 'rate') {
        this.countLimit('QUERY_LIMIT_EXCEEDED');
        this.throttle.refused();
        this.log(`${this.host}: 503 QUERY_LIMIT_EXCEEDED, slowing down`);
        continue;
      }
      if (verdict.kind === 'operating') {
        this.countLimit('OPERATION_TIME_LIMIT');
        const reset = time?.operating_reset_at;
        for (const b of opts.billing) this.throttle.blocked(b.method, reset !== undefined ? Number(reset) : undefined);
        this.log(`${this.host}: 429 OPERATION_TIME_LIMIT for ${method}, waiting for the oldest bucket to reset`);
        continue;
      }
      this.countLimit(verdict.code || `HTTP_${answer.status}`);
      const description = this.redact(verdict.description);
      if (verdict.kind === 'halt') {
        throw new RunHaltedError(verdict.code, haltMessage(verdict.code, description, this.host));
      }
      opts.onSend?.();
      if (verdict.kind === 'transient') {
        if (!opts.idempotent || transientTries >= this.maxRetries) {
          throw new TransientError(verdict.code, `${this.host}: ${description}`, answer.status);
        }
        await this.backoff(++transientTries, deadline, verdict.code, description);
        continue;
      }
      throw new PortalError(verdict.code, description, answer.status);
    }
  }

  private async backoff(n: number, deadline: number, code: string, description: string): Promise<void> {
    const base = Math.min(10_000, this.backoffMs * 2 ** (n - 1));
    const wait = Math.round(base * (0.8 + 0.4 * this.random()));
    if (this.now() + wait > deadline) throw new TransientError(code, `${this.host}: ${description}`, 0);
    this.log(`${this.host}: ${code}, retry ${n} in ${wait} ms`);
    this.c.backoffMs += wait;
    await this.sleep(wait);
  }

  /** One HTTP exchange, following 302/307/308 by re-POSTing the same body (remembered for later calls). */
  private async send(method: string, payload: string): Promise<{ status: number; body: unknown }> {
    for (let hop = 0; ; hop++) {
      this.c.requests += 1;
      const res = await this.fetchImpl(`${this.webhook.base}${method}.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const location = res.headers.get('location');
      if ([301, 302, 303, 307, 308].includes(res.status) && location) {
        await res.body?.cancel();
        if (hop >= 5) throw new RunHaltedError('TOO_MANY_REDIRECTS', `${this.host}: the portal keeps redirecting`);
        let next: Webhook;
        try {
          next = parseWebhook(rebase(this.webhook.base, location));
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          throw new RunHaltedError('BAD_REDIRECT', this.redact(`${this.host} redirected the webhook elsewhere: ${msg}`));
        }
        if (next.code !== this.webhook.code) this.secrets.push(next.code);
        this.log(`${this.host}: portal moved to ${next.host}, using it from now on`);
        this.webhook = next;
        continue;
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined; // HTML error pages (nginx 502/504)
      }
      return { status: res.status, body };
    }
  }

  /** Feeds the throttle with the operating figures of the envelope and each nested result_time. */
  private observeTimes(method: string, body: unknown, billing: Billing): void {
    const time = timeOf(body);
    const units = billing.reduce((s, b) => (b.method === method ? s + b.units : s), 0) || 1;
    if (time) {
      this.c.operatingSeconds += Number(time.processing ?? time.duration ?? 0) || 0;
      this.throttle.observe(method, time, method === 'batch' ? totalUnits(billing) : units, Number(time.processing ?? 0) || undefined);
    }
    if (method !== 'batch') return;
    const inner = (body as { result?: { result_time?: unknown } }).result?.result_time;
    if (!inner || typeof inner !== 'object') return;
    // Nested figures, per method: the highest cumulative operating, and the sum of processing.
    const per = new Map<string, { time: PortalTime; spent: number; units: number }>();
    const methodsByKey = (billing as BillingWithKeys).byKey;
    for (const [key, t] of Object.entries(inner as Record<string, PortalTime>)) {
      const m = methodsByKey?.get(key) ?? billing.find((b) => b.method !== 'batch')?.method;
      if (!m || !t || typeof t !== 'object') continue;
      const cur = per.get(m) ?? { time: t, spent: 0, units: 0 };
      if (Number(t.operating ?? 0) >= Number(cur.time.operating ?? 0)) cur.time = t;
      cur.spent += Number(t.processing ?? 0) || 0;
      cur.units += 1;
      per.set(m, cur);
    }
    for (const [m, p] of per) {
      this.throttle.observe(m, { ...p.time, finish: time?.finish ?? p.time.finish }, p.units, p.spent || undefined);
    }
  }
}

type BillingWithKeys = Billing & { byKey?: Map<string, string> };

/** What a batch bills: `batch` for all its commands (envelope billing) and each nested method for its own. */
export function batchBilling(cmd: Record<string, string>): Billing {
  const counts = new Map<string, number>();
  const keys = new Map<string, string>();
  for (const [key, text] of Object.entries(cmd)) {
    const q = text.indexOf('?');
    const m = (q < 0 ? text : text.slice(0, q)).trim().toLowerCase();
    keys.set(key, m);
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  const billing: BillingWithKeys = [{ method: 'batch', units: keys.size }, ...[...counts].map(([method, units]) => ({ method, units }))];
  billing.byKey = keys;
  return billing;
}

function totalUnits(billing: Billing): number {
  return billing.find((b) => b.method === 'batch')?.units ?? 1;
}

export function timeOf(body: unknown): PortalTime | undefined {
  const t = body && typeof body === 'object' ? (body as { time?: unknown }).time : undefined;
  return t && typeof t === 'object' ? (t as PortalTime) : undefined;
}

/** `batch`'s body → per-key results and errors (PHP's `[]` for an empty map becomes {}). */
export function unwrapBatch(body: unknown): BatchResult {
  const r = (body as { result?: Record<string, unknown> } | undefined)?.result ?? {};
  return { result: asMap(r.result) as Record<string, unknown>, errors: asMap(r.result_error) as Record<string, PortalErrorBody> };
}

export function asMap(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object') return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return v as Record<string, unknown>;
}

function networkFailure(e: unknown, timeoutMs: number): { code: string; description: string } {
  const err = e as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError' || err?.cause?.name === 'TimeoutError') {
    return { code: 'TIMEOUT', description: `no answer within ${Math.round(timeoutMs / 1000)} s (the write may have been applied)` };
  }
  const code = err?.cause?.code ?? err?.code ?? 'NETWORK_ERROR';
  return { code: 'NETWORK_ERROR', description: `connection failed (${code}; the write may have been applied)` };
}

function haltMessage(code: string, description: string, host: string): string {
  const why: Record<string, string> = {
    OVERLOAD_LIMIT: 'REST is blocked on the portal for overload (a manual block: Bitrix24 support must lift it); the run stops',
    INVALID_CREDENTIALS: 'the webhook was refused (wrong code, or its user lacks rights): check the webhook',
    NO_AUTH_FOUND: 'the webhook code was not accepted: check the webhook',
    ACCESS_DENIED: 'REST access denied (REST needs a commercial plan, or the user lacks rights)',
    insufficient_scope: 'the webhook lacks the crm scope',
    expired_token: 'the access token expired',
    PORTAL_DELETED: 'the portal is deleted or closed',
  };
  return `${host}: ${why[code] ?? 'the portal refused the run'} (${code}${description ? `: ${description}` : ''})`;
}

/** Builds the client for one webhook. */
export function createClient(opts: ClientOptions): PortalClient {
  return new PortalClient(opts);
}
