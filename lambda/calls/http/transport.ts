import { RunHaltedError } from '../../errors.ts';
import { parseWebhook, rebase, redact, type Webhook } from '../webhook.ts';
import { DEFAULT_MAX_BODY_BYTES, readCapped } from './bodyCap.ts';
import { type Reach, redirectProblem } from './reach.ts';

/** A raw HTTP answer: the status and the parsed JSON body (undefined for an empty or non-JSON body). */
export interface Answer {
  status: number;
  body: unknown;
}

export interface TransportOptions {
  fetch: typeof fetch;
  /** Per request, the body's reading included. */
  timeoutMs: number;
  /** Largest answer body read, bytes (default DEFAULT_MAX_BODY_BYTES); past it: AnswerTooLargeError. */
  maxBodyBytes?: number;
  log: (line: string) => void;
  /** Where the webhook may go: checked on the URL at once and on every redirect. */
  reach: Reach;
}

const REDIRECTS = [301, 302, 303, 307, 308];
const MAX_HOPS = 5;

/**
 * POSTs to one portal's incoming webhook, following a renamed portal's redirects within `reach` (and keeping
 * the new address for later calls). It knows every webhook code it has seen, so `redact` removes them all from any text.
 */
export class WebhookTransport {
  /** The host the run started with: messages keep naming it after a redirect. */
  readonly host: string;
  /** HTTP requests made, redirect hops included. */
  requests = 0;
  private webhook: Webhook;
  private readonly secrets: string[];

  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly log: (line: string) => void;
  private readonly reach: Reach;

  constructor(webhookUrl: string, opts: TransportOptions) {
    this.fetchImpl = opts.fetch;
    this.timeoutMs = opts.timeoutMs;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.log = opts.log;
    this.reach = opts.reach;
    this.webhook = parseWebhook(webhookUrl, this.reach);
    this.host = this.webhook.host;
    this.secrets = [this.webhook.code];
  }

  /** Removes the webhook URL and code from any text. */
  redact(text: string): string {
    return redact(text, ...this.secrets);
  }

  /** One HTTP exchange, following 301–308 by re-POSTing the same body (remembered for later calls), within `reach`. */
  async exchange(method: string, payload: string): Promise<Answer> {
    for (let hop = 0; ; hop++) {
      this.requests += 1;
      const res = await this.fetchImpl(`${this.webhook.base}${method}.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const location = res.headers.get('location');
      if (REDIRECTS.includes(res.status) && location) {
        await res.body?.cancel();
        if (hop >= MAX_HOPS) throw new RunHaltedError('TOO_MANY_REDIRECTS', `${this.host}: the portal keeps redirecting`);
        this.follow(location);
        continue;
      }
      return { status: res.status, body: parseBody(await readCapped(res, this.maxBodyBytes)) };
    }
  }

  /**
   * Takes a redirect's Location as the webhook from now on, when it may be followed (see redirectProblem) and
   * names a whole webhook path; anything else halts the run (PORTAL_MOVED) naming only the new host.
   */
  private follow(location: string): void {
    const from = new URL(this.webhook.base);
    let to: URL;
    try {
      to = new URL(location, from);
    } catch {
      throw this.moved('an address that is not a URL', 'an invalid address');
    }
    const base = rebase(this.webhook.base, location);
    const why = redirectProblem(from, to, this.reach) ?? (base ? undefined : 'an address without the webhook path /rest/<user id>/<code>/');
    if (why || !base) throw this.moved(why ?? '', to.host);
    let next: Webhook;
    try {
      next = parseWebhook(base, this.reach);
    } catch (e) {
      throw this.moved(e instanceof Error ? e.message : String(e), to.host);
    }
    if (next.code !== this.webhook.code) this.secrets.push(next.code);
    this.log(`${this.host}: portal moved to ${next.host}, using it from now on`);
    this.webhook = next;
  }

  /** The run stops: the operator must look at the new address and update the configured webhook. */
  private moved(why: string, host: string): RunHaltedError {
    const message = `${this.host}: the portal redirected the webhook to ${host}, which is not followed (${why}); the run stops. If the portal moved, put its new webhook URL in the configuration (a self-hosted portal's new host may also be named in allowedHosts)`;
    return new RunHaltedError('PORTAL_MOVED', this.redact(message));
  }
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined; // HTML error pages (nginx 502/504)
  }
}
