/**
 * The local Bitrix24 sandbox portal: a node:http server that behaves like a real portal for everything the
 * importer touches. Used by tests, benchmarks and the local demo (`npm start`).
 *
 * ```ts
 * const sb = await startSandbox({ rate: 2, burst: 50, operatingLimit: 5, operatingWindow: 10, seed: 7 });
 * const [id] = sb.seedLeads([{ TITLE: 'Acme', PHONE: [{ VALUE: '+4930123', VALUE_TYPE: 'WORK' }] }]);
 * await fetch(`${sb.webhookUrl}crm.lead.update.json`, { method: 'POST', body: JSON.stringify({ id, fields: { NAME: 'Ann' } }),
 *   headers: { 'content-type': 'application/json' } });
 * sb.lead(id)?.NAME; // 'Ann'
 * sb.ledger();       // [{ seq: 1, method: 'crm.lead.update', id, fields: { NAME: 'Ann' }, via: 'direct', … }]
 * await sb.close();
 * ```
 *
 * Exports:
 * - `startSandbox(options?: SandboxOptions): Promise<Sandbox>` — listens on 127.0.0.1, port 0.
 * - `Sandbox`: `url` (http://127.0.0.1:PORT), `webhookUrl` (…/rest/<userId>/<code>/, trailing slash),
 *   `webhookUrls` (with the extra `webhooks`), `seedLeads(leads) → ids`, `seedRandom(n, seed?, random?) → ids`,
 *   `lead(id)` / `leads()` (as crm.lead.get prints them), `ledger()` (every applied write as received),
 *   `stats()`, `setFaults(f)`, `setOverload(on)`, `setAuthFault(kind)`, `close()`.
 * - `randomLeads(n, seed, options?)`: plausible leads, some bound to Open Channels (IM "imol|…") or LINK.
 * - HTTP: `/rest/<userId>/<code>/<method>[.json]` (GET or POST; JSON or form bodies; query-string params
 *   merge with the body), and for the demo `GET /_sandbox/leads`, `/_sandbox/ledger`, `/_sandbox/stats`.
 *
 * Methods: crm.lead.update, crm.lead.get, crm.lead.list, crm.lead.fields, crm.status.list (pages of 50), batch.
 * Fault decisions (mulberry32, `seed`) are drawn for each request that passes auth, the manual block and the
 * leaky bucket, in arrival order, four draws per request whatever the probabilities, so runs repeat exactly.
 * Note: a client whose webhook parser wants `/rest/` first in the path should test 302 with `redirectTo`.
 * Order of checks per request, as CRestServer runs them: portal deleted (403 PORTAL_DELETED) → the method exists
 * (404 ERROR_METHOD_NOT_FOUND) → auth (401: NO_AUTH_FOUND without a webhook, INVALID_CREDENTIALS for a wrong
 * code, an injected AuthFault, insufficient_scope) → manual block (503 OVERLOAD_LIMIT) → leaky bucket (503
 * QUERY_LIMIT_EXCEEDED) → injected 500/502/ERROR_CORE (nothing applied) → operating budget (429
 * OPERATION_TIME_LIMIT) → the method → its server time (× timeScale) → booking → latency / slow fault →
 * reply (or reset the connection after applying). The body cap (413 HTML) comes first, as the web server's.
 * Time: `operating` is kept per webhook and per method, as LoadLimiter keeps it (limits.ts): each call (each
 * batch command) is checked before it runs against the buckets up to its request's start plus the request's own
 * finished calls over 0.1 s; the request's calls are booked as their sum (when over 0.1 s) when it ends, into
 * the bucket of its start; `time.start`/`processing` are whole seconds.
 * Error answers carry no `time`; a failed batch command has no `result_time` entry.
 * A moved portal: `movedPrefix` answers 302 to the same path without the prefix; `redirectTo` answers every
 * /rest/ request with a 302 to that base URL (an "old host" sandbox).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LeadRecord } from '../../lambda/types.ts';
import { MAX_BATCH, type BatchRefs, commandEntries, emptyRefs, parseCommand, phpMap, phpTruthy } from './batch.ts';
import { DEFAULT_USER_FIELDS, type StatusOptions, type UserFieldOption } from './catalogue.ts';
import { Faults, mulberry32, type FaultDecision, type FaultOptions } from './faults.ts';
import { LeadStore, RestError, param, type LedgerEntry, type MethodResult } from './leads.ts';
import { DEFAULT_COSTS, LeakyBucket, OperatingBudget, RequestLoad, costOf, round } from './limits.ts';
import { mergeParams, parsePhpQuery } from './query.ts';
import { isoAt } from './values.ts';

export type { FaultOptions } from './faults.ts';
export type { LedgerEntry } from './leads.ts';
export type { UserFieldOption, StatusOptions } from './catalogue.ts';

/** See SandboxOptions.cost. */
export type CostHook = (method: string, params: Record<string, unknown>, i: number, index: number) => number | undefined;

export interface SandboxOptions {
  /** Webhook user id (default 1). */
  userId?: number;
  /** Webhook secret code (default: random per sandbox). */
  code?: string;
  /** Leaky bucket drain, requests/s (default 2). */
  rate?: number;
  /** Leaky bucket size (default 50). */
  burst?: number;
  /** Operating budget per webhook and method, seconds of server time in the window (default 480). */
  operatingLimit?: number;
  /** Operating window, seconds (default 600; tests compress it, e.g. 10). */
  operatingWindow?: number;
  /** Server time per command, seconds: `{ 'crm.lead.update': 0.2, default: 0.01 }`. */
  costs?: Record<string, number>;
  /**
   * Server time of one call, seconds, when it varies (automation rules make updates cost 0.1–0.5 s): called
   * for each call (each batch command) with its method, its parameters and `i`, the request's sequence number
   * (the commands of one batch share it), then its position in the batch (0 for a direct call). undefined
   * falls back to `costs`.
   */
  cost?: CostHook;
  /** 'nested' (default): each command billed to its own method; 'envelope': the whole batch billed to `batch`. */
  batchBilling?: 'nested' | 'envelope';
  /** Hard cap on one request's server time, seconds (e.g. 60). Commands past it are not run; the reply is 504. */
  requestCap?: number;
  /** Real delay added per request and per command, ms (on top of timeScale). */
  latencyMs?: { request?: number; command?: number };
  /**
   * Latency like a real portal: a request returns after the server time of its commands (each command's
   * `costs` entry, one after another inside a batch) times this factor, in real ms per server second / 1000;
   * 1 = real time, 0.01 = a 4 s batch answers after 40 ms. Default 0: no wait (the suite's old speed); the
   * server time is still reported in `time` and booked in `operating`.
   */
  timeScale?: number;
  /** Keep fractions in `time.start` and `time.processing`, as portals printed them until 2024 (default false: whole seconds). */
  fractionalTime?: boolean;
  /** LoadLimiter's minimal fix time, seconds (default 0.1): a call's time is booked in `operating` only when over it. */
  operatingMinFix?: number;
  /**
   * More incoming webhooks on this portal (webhookUrls[1…]); each is its own auth entity for `operating`.
   * Defaults per field: userId of the primary webhook, a random code, admin true, scopes ['crm'].
   */
  webhooks?: Array<{ userId?: number; code?: string; admin?: boolean; scopes?: string[] }>;
  faults?: FaultOptions;
  /** PRNG seed for faults (default 1). */
  seed?: number;
  /** Custom lead fields (default: one string UF_CRM_LOYALTY_CARD and one enumeration UF_CRM_SEGMENT). */
  userFields?: UserFieldOption[];
  /** Extra crm.status.list entries per ENTITY_ID (e.g. custom lead stages). */
  statuses?: StatusOptions;
  /** Server time zone offset in minutes (default 180, +03:00). */
  tzOffset?: number;
  /** Requests under `${movedPrefix}/rest/…` get 302 to `/rest/…` on this sandbox. */
  movedPrefix?: string;
  /** Every /rest/ request gets 302 to `${redirectTo}/rest/…` (this sandbox plays the old host). */
  redirectTo?: string;
  /** The sandbox clock, ms (default Date.now). */
  now?: () => number;
  /** The webhook's user is a portal admin (default true). A non-admin gets "Access denied." from crm.lead.update for an ID that does not exist. */
  admin?: boolean;
  /** The webhook's scopes (default ['crm']). crm.* methods without 'crm' answer 401 insufficient_scope (per command inside batch). */
  scopes?: string[];
  /** Largest request body the web server in front accepts, bytes (default 8 MiB); larger bodies get 413 with an HTML page. */
  maxBodyBytes?: number;
  /** An auth refusal to answer every /rest/ call with, until `setAuthFault(undefined)` (default none). See AuthFault. */
  authFault?: AuthFault;
}

/**
 * Refusals the portal gives before a method runs, as the server sets them (all webhook-auth failures are 401):
 * - ownerDeactivated: 401 authorization_error "Unable to authorize user" (the webhook's owner was deactivated)
 * - insufficientScope: 401 insufficient_scope
 * - httpsRequired: 401 INVALID_REQUEST "Https required."
 * - notCommercial: 401 ACCESS_DENIED "REST is available only on commercial plans."
 * - webhookOnHold: 401 OVERLOAD_LIMIT (this webhook put on hold; the portal-wide manual block, setOverload, stays 503)
 * - noAuth: 401 NO_AUTH_FOUND "Wrong authorization data"
 * - portalDeleted: 403 PORTAL_DELETED "Portal was deleted" (checked before the method is looked up)
 */
export type AuthFault =
  | 'ownerDeactivated'
  | 'insufficientScope'
  | 'httpsRequired'
  | 'notCommercial'
  | 'webhookOnHold'
  | 'noAuth'
  | 'portalDeleted';

const AUTH_FAULTS: Record<AuthFault, [number, string, string]> = {
  ownerDeactivated: [401, 'authorization_error', 'Unable to authorize user'],
  insufficientScope: [401, 'insufficient_scope', 'The request requires higher privileges than provided by the webhook token'],
  httpsRequired: [401, 'INVALID_REQUEST', 'Https required.'],
  notCommercial: [401, 'ACCESS_DENIED', 'REST is available only on commercial plans.'],
  webhookOnHold: [401, 'OVERLOAD_LIMIT', 'REST API is blocked due to overload'],
  noAuth: [401, 'NO_AUTH_FOUND', 'Wrong authorization data'],
  portalDeleted: [403, 'PORTAL_DELETED', 'Portal was deleted'],
};

export interface SandboxStats {
  /** Requests that reached /rest/ (incl. refused ones). */
  requests: number;
  /** Top-level requests by method. */
  byMethod: Record<string, number>;
  /** Commands run inside batches, by method. */
  batchCommands: Record<string, number>;
  /** Refusals by error code (INVALID_CREDENTIALS, QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT, ERROR_BATCH_*, REDIRECT_302), incl. inside batches. */
  refusals: Record<string, number>;
  /** Method errors by `error`, or by description when `error` is empty ("Lead is not found", "Not found", "ID is not defined or invalid."). */
  errors: Record<string, number>;
  /** Faults injected by kind (internalError, badGateway, resetAfterApply, slow, overload). */
  faults: Record<string, number>;
  /** Operating seconds in the window per method (summed over webhooks). */
  operating: Record<string, number>;
  /** Operating seconds in the window per webhook (`<userId>/<index in webhookUrls>`) and method. */
  operatingByWebhook: Record<string, Record<string, number>>;
  /** Writes applied (ledger length). */
  writes: number;
}

export interface Sandbox {
  url: string;
  /** The primary webhook (…/rest/<userId>/<code>/). */
  webhookUrl: string;
  /** Every webhook: the primary one first, then `webhooks` in order. */
  webhookUrls: string[];
  seedLeads(leads: Array<Record<string, unknown>>): number[];
  /** Seeds `randomLeads(n, seed ?? options.seed ?? 1, random)`; returns the ids. */
  seedRandom(n: number, seed?: number, random?: RandomLeadOptions): number[];
  lead(id: number): LeadRecord | undefined;
  leads(): LeadRecord[];
  ledger(): LedgerEntry[];
  stats(): SandboxStats;
  setFaults(f: FaultOptions): void;
  setOverload(on: boolean): void;
  /** Answer every /rest/ call with this refusal (undefined: back to normal). */
  setAuthFault(kind: AuthFault | undefined): void;
  close(): Promise<void>;
}

interface TimeBlock {
  start: number;
  finish: number;
  duration: number;
  processing: number;
  date_start: string;
  date_finish: string;
  operating_reset_at: number;
  operating: number;
}

interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Drop the connection instead of answering (the write was applied). */
  reset?: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const ENTITY_TOO_LARGE_HTML =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const GATEWAY_TIMEOUT_HTML =
  '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const portal = new Portal(options);
  const server = http.createServer((req, res) => {
    portal.handle(req, res).catch((err: unknown) => {
      // A bug in the sandbox must not hang the client: answer 500 like a crashed PHP script.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': JSON_TYPE });
        res.end(JSON.stringify({ error: 'INTERNAL_SERVER_ERROR', error_description: String(err) }));
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  portal.url = url;
  return {
    url,
    webhookUrl: `${url}/rest/${portal.userId}/${portal.code}/`,
    webhookUrls: portal.webhooks.map((w) => `${url}/rest/${w.userId}/${w.code}/`),
    seedLeads: (leads) => portal.store.seed(leads),
    seedRandom: (n, seed, random) => portal.store.seed(randomLeads(n, seed ?? options.seed ?? 1, random)),
    lead: (id) => portal.store.get(id),
    leads: () => portal.store.all(),
    ledger: () => portal.store.ledger(),
    stats: () => portal.stats(),
    setFaults: (f) => portal.faults.set(f),
    setOverload: (on) => portal.faults.setOverload(on),
    setAuthFault: (kind) => {
      portal.authFault = kind;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** One incoming webhook: who calls (the auth entity the operating budget is kept for) and with which rights. */
interface Webhook {
  /** Index in webhookUrls (0 = the primary webhook); the auth entity of the operating budget. */
  index: number;
  userId: number;
  code: string;
  admin: boolean;
  scopes: string[];
}

/** What a request did: its reply, the commands it ran and the real time it should take. */
interface Outcome {
  reply: Reply;
  commands: number;
}

/** LoadLimiter's minimal fix time: a call's time is booked only when it is over this many seconds. */
const MIN_FIX_TIME = 0.1;
const BLOCKED = ['OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit'] as const;

class Portal {
  readonly userId: number;
  readonly code: string;
  readonly webhooks: Webhook[];
  readonly store: LeadStore;
  readonly faults: Faults;
  url = '';
  authFault: AuthFault | undefined;
  private readonly now: () => number;
  private readonly tz: number;
  private readonly bucket: LeakyBucket;
  private readonly budget: OperatingBudget;
  private readonly costs: Record<string, number>;
  private readonly window: number;
  private readonly maxBody: number;
  private readonly timeScale: number;
  private readonly minFix: number;
  private requestSeq = 0;
  private readonly counters = {
    requests: 0,
    byMethod: {} as Record<string, number>,
    batchCommands: {} as Record<string, number>,
    refusals: {} as Record<string, number>,
    errors: {} as Record<string, number>,
    faults: {} as Record<string, number>,
  };

  constructor(private readonly o: SandboxOptions) {
    this.userId = o.userId ?? 1;
    this.code = o.code ?? randomBytes(8).toString('hex');
    const primary = { userId: this.userId, code: this.code, admin: o.admin, scopes: o.scopes };
    this.webhooks = [primary, ...(o.webhooks ?? [])].map((w, index) => ({
      index,
      userId: w.userId ?? this.userId,
      code: w.code ?? randomBytes(8).toString('hex'),
      admin: w.admin ?? true,
      scopes: w.scopes ?? ['crm'],
    }));
    this.now = o.now ?? Date.now;
    this.tz = o.tzOffset ?? 180;
    this.maxBody = o.maxBodyBytes ?? 8 * 1024 * 1024;
    this.timeScale = o.timeScale ?? 0;
    this.minFix = o.operatingMinFix ?? MIN_FIX_TIME;
    this.bucket = new LeakyBucket(o.rate ?? 2, o.burst ?? 50, this.now);
    this.window = o.operatingWindow ?? 600;
    this.budget = new OperatingBudget(o.operatingLimit ?? 480, this.window, this.now);
    this.costs = { ...DEFAULT_COSTS, ...(o.costs ?? {}) };
    this.faults = new Faults(o.faults, o.seed ?? 1);
    this.authFault = o.authFault;
    this.store = new LeadStore({
      userId: this.userId,
      userFields: o.userFields ?? DEFAULT_USER_FIELDS,
      statuses: o.statuses,
      tzOffset: this.tz,
      now: this.now,
    });
  }

  stats(): SandboxStats {
    const byKey = this.budget.snapshot();
    const operating: Record<string, number> = {};
    const operatingByWebhook: Record<string, Record<string, number>> = {};
    for (const [key, v] of Object.entries(byKey)) {
      const [entity, method] = splitKey(key);
      operating[method] = round((operating[method] ?? 0) + v);
      operatingByWebhook[entity] = { ...(operatingByWebhook[entity] ?? {}), [method]: v };
    }
    return { ...structuredClone(this.counters), operating, operatingByWebhook, writes: this.store.writes() };
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = this.now();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const body = await readBody(req);

    if (url.pathname.startsWith('/_sandbox/')) return send(res, this.inspect(url.pathname));

    const moved = this.redirect(url);
    if (moved) return send(res, moved);

    // The web server in front refuses an oversized body before PHP sees it.
    if (url.pathname.startsWith('/rest/') && Buffer.byteLength(body) > this.maxBody) {
      inc(this.counters.refusals, 'REQUEST_ENTITY_TOO_LARGE');
      return send(res, { status: 413, body: ENTITY_TOO_LARGE_HTML, contentType: 'text/html' });
    }

    const hook = /^\/rest\/([^/]+)\/([^/]+)\/([^/]+?)(?:\.json)?\/?$/.exec(url.pathname);
    const bare = hook ? null : /^\/rest\/([^/]+?)(?:\.json)?\/?$/.exec(url.pathname);
    if (!hook && !bare) return send(res, { status: 404, body: 'Not Found', contentType: 'text/plain' });
    const method = decodeURIComponent(hook ? hook[3] : (bare as RegExpExecArray)[1]).toLowerCase();
    this.counters.requests++;
    inc(this.counters.byMethod, method);
    const requestSeq = ++this.requestSeq;

    const gate = this.admit(method, hook);
    if (!('webhook' in gate)) return send(res, gate);
    const fault = this.faults.decide();
    const injected = this.injected(method, fault);
    if (injected) return send(res, injected);

    const params = mergeParams(parsePhpQuery(url.search.slice(1)), parseBody(req.headers['content-type'], body));
    const call = { webhook: gate.webhook, requestSeq, started };
    const outcome = method === 'batch' ? await this.batch(params, call) : await this.single(method, params, call);

    const latency = (this.o.latencyMs?.request ?? 0) + (this.o.latencyMs?.command ?? 0) * outcome.commands + fault.slowMs;
    if (fault.slowMs) inc(this.counters.faults, 'slow');
    if (latency > 0) await sleep(latency);
    if (fault.resetAfterApply) {
      inc(this.counters.faults, 'resetAfterApply');
      req.socket.destroy();
      return;
    }
    send(res, outcome.reply);
  }

  /**
   * CRestServer's order: the portal is open → the method exists → auth (NO_AUTH_FOUND without a webhook,
   * INVALID_CREDENTIALS for a wrong code, an injected AuthFault, the scope) → the manual block → the bucket.
   */
  private admit(method: string, hook: RegExpExecArray | null): Reply | { webhook: Webhook } {
    if (this.authFault === 'portalDeleted') return this.refuse(...AUTH_FAULTS.portalDeleted);
    if (method !== 'batch' && !LeadStore.methods.includes(method)) {
      return errorReply(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
    }
    if (!hook) return this.refuse(...AUTH_FAULTS.noAuth); // no OAuth tokens on this portal
    const webhook = this.webhooks.find((w) => hook[1] === String(w.userId) && hook[2] === w.code);
    if (!webhook) return this.refuse(401, 'INVALID_CREDENTIALS', 'Invalid request credentials');
    if (this.authFault) return this.refuse(...AUTH_FAULTS[this.authFault]);
    if (method !== 'batch' && !webhook.scopes.includes('crm')) return this.refuse(...AUTH_FAULTS.insufficientScope);
    if (this.faults.overloaded()) {
      inc(this.counters.faults, 'overload');
      return this.refuse(503, 'OVERLOAD_LIMIT', 'REST API is blocked due to overload');
    }
    if (!this.bucket.take()) return this.refuse(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests');
    return { webhook };
  }

  /** Injected 500 / 502 / ERROR_CORE: the request fails before anything is applied. */
  private injected(method: string, fault: FaultDecision): Reply | undefined {
    if (fault.internalError) {
      inc(this.counters.faults, 'internalError');
      return errorReply(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
    if (fault.badGateway) {
      inc(this.counters.faults, 'badGateway');
      return { status: 502, body: BAD_GATEWAY_HTML, contentType: 'text/html' };
    }
    if (method !== 'batch' && this.faults.sqlError()) {
      inc(this.counters.faults, 'sqlError');
      return errorReply(500, 'ERROR_CORE', 'SQL query error!');
    }
    return undefined;
  }

  private inspect(path: string): Reply {
    const what = path.slice('/_sandbox/'.length).replace(/\/$/, '');
    const data =
      what === 'leads' ? this.store.all() : what === 'ledger' ? this.store.ledger() : what === 'stats' ? this.stats() : undefined;
    if (data === undefined) return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    return { status: 200, body: JSON.stringify(data, null, 2), contentType: JSON_TYPE };
  }

  private redirect(url: URL): Reply | undefined {
    const prefix = this.o.movedPrefix?.replace(/\/$/, '');
    let target: string | undefined;
    if (prefix && url.pathname.startsWith(`${prefix}/rest/`)) target = `${this.url}${url.pathname.slice(prefix.length)}${url.search}`;
    else if (this.o.redirectTo && url.pathname.startsWith('/rest/'))
      target = `${this.o.redirectTo.replace(/\/$/, '')}${url.pathname}${url.search}`;
    if (!target) return undefined;
    inc(this.counters.refusals, 'REDIRECT_302');
    return { status: 302, body: '', contentType: 'text/html', headers: { location: target } };
  }

  private refuse(status: number, error: string, description: string): Reply {
    inc(this.counters.refusals, error);
    return errorReply(status, error, description);
  }

  /** One call's server time: the hook's, else the table's. */
  private costOf(method: string, params: Record<string, unknown>, request: number, index: number): number {
    const hooked = this.o.cost?.(method, params, request, index);
    return hooked !== undefined && Number.isFinite(hooked) && hooked >= 0 ? hooked : costOf(this.costs, method);
  }

  /** The budget key: operating is kept per auth entity (the webhook) and per method. */
  private key(webhook: Webhook, method: string): string {
    return `${webhook.userId}/${webhook.index}\u0000${method}`;
  }

  /** A call's server time passes (scaled by timeScale, on the real clock). */
  private async pass(seconds: number, end?: { at: number }): Promise<void> {
    const ms = seconds * 1000 * this.timeScale;
    if (end) {
      // Inside a batch the commands' times add up on one real timeline, so timer slack does not accumulate:
      // a batch of 50 × 1/60 s answers after 0.83 s, not 50 timer overshoots later.
      end.at += ms;
      const left = end.at - performance.now();
      if (left > 0) await sleep(left);
    } else if (ms > 0) await sleep(ms);
  }

  /**
   * A call's time passes and is recorded in the request's load: it counts for the request's own later checks at
   * once and is booked for everyone when the request ends (OperatingBudget.book), so calls in flight are
   * invisible to other requests.
   */
  private async spend(load: RequestLoad, key: string, seconds: number, startedAt: number, end?: { at: number }): Promise<void> {
    await this.pass(seconds, end);
    load.ran(key, seconds, startedAt);
  }

  /**
   * A `time` block on the server's (virtual) clock: the call started at `startMs` and took `seconds`.
   * Current portals print `start` and `processing` as whole seconds (`duration` is then up to 1 s more than
   * the call took); `fractionalTime` keeps the fractions old portals printed. `operating` stays a float.
   */
  private timeBlock(startMs: number, seconds: number, operating: { operating: number; resetAt: number }, requestStart: number): TimeBlock {
    // `finish` is when the call really ended on the clock its time is booked on: a skipped (timeScale 0) or
    // compressed server time must not show a finish ahead of that clock. A clock of the test's own (`now`)
    // that did not move during the request is hand-driven: it shows the server time instead.
    const moved = this.timeScale > 0 || this.o.now === undefined || this.now() > requestStart;
    const finishMs = moved ? this.now() : startMs + seconds * 1000;
    const fractions = !!this.o.fractionalTime;
    const start = fractions ? startMs / 1000 : Math.floor(startMs / 1000);
    const finish = finishMs / 1000;
    return {
      start,
      finish,
      duration: round(finish - start),
      processing: fractions ? round(seconds) : Math.floor(seconds),
      date_start: isoAt(startMs, this.tz),
      date_finish: isoAt(finishMs, this.tz),
      operating_reset_at: operating.resetAt,
      operating: round(operating.operating),
    };
  }

  /**
   * `operating` and `operating_reset_at` for a key as getRestTime/getResetTime read them inside a request: the
   * buckets up to the request's numBucket plus its own finished calls; the reset is start + window when idle.
   */
  private operatingOf(key: string, load: RequestLoad): { operating: number; resetAt: number } {
    return {
      operating: this.budget.operating(key, load.startedAt) + load.own(key),
      resetAt: this.budget.resetAt(key, load.startedAt) ?? Math.floor(load.startedAt / 1000) + this.window,
    };
  }

  /** LoadLimiter::is for a call of `key` within the request. */
  private blocked(key: string, load: RequestLoad): boolean {
    return this.budget.blocked(key, load.startedAt, load.own(key));
  }

  /** One top-level method call. */
  private async single(method: string, params: Record<string, unknown>, call: CallInfo): Promise<Outcome> {
    const key = this.key(call.webhook, method);
    const load = new RequestLoad(call.started, this.minFix);
    if (this.blocked(key, load)) return { reply: this.refuse(429, ...BLOCKED), commands: 0 };
    const cost = this.costOf(method, params, call.requestSeq, 0);
    const cap = this.o.requestCap;
    let out: MethodResult;
    try {
      out = this.store.call(method, params, { via: 'direct', requestSeq: call.requestSeq, admin: call.webhook.admin });
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      if (err.status !== 404) await this.spend(load, key, cost, call.started);
      this.budget.book(load);
      inc(this.counters.errors, err.error || err.description);
      return { reply: errorReply(err.status, err.error, err.description), commands: 1 };
    }
    if (cap !== undefined && cost > cap) {
      await this.spend(load, key, cap, call.started);
      this.budget.book(load);
      return { reply: { status: 504, body: GATEWAY_TIMEOUT_HTML, contentType: 'text/html' }, commands: 1 };
    }
    await this.spend(load, key, cost, call.started);
    const env: Record<string, unknown> = { result: out.result };
    if (out.next !== undefined) env.next = out.next;
    if (out.total !== undefined) env.total = out.total;
    env.time = this.timeBlock(call.started, cost, this.operatingOf(key, load), call.started);
    this.budget.book(load);
    return { reply: { status: 200, body: JSON.stringify(env), contentType: JSON_TYPE }, commands: 1 };
  }

  /**
   * `batch` as methodsBatch runs it: the commands one after another, each a call of its own method (its
   * own budget check before it runs, its own time booked when it ends, its own `result_time`); the first 50
   * run and later ones are refused per command. Under nested billing the envelope shows `operating: 0`.
   */
  private async batch(params: Record<string, unknown>, call: CallInfo): Promise<Outcome> {
    const envelope = this.o.batchBilling === 'envelope';
    const batchKey = this.key(call.webhook, 'batch');
    const load = new RequestLoad(call.started, this.minFix);
    if (envelope && this.blocked(batchKey, load)) return { reply: this.refuse(429, ...BLOCKED), commands: 0 };
    const entries = commandEntries(param(params, 'cmd')) ?? [];
    const run: BatchRun = {
      halt: phpTruthy(param(params, 'halt')),
      refs: emptyRefs(),
      processing: 0,
      ran: 0,
      capped: false,
      clock: { at: performance.now() },
      load,
    };
    for (const [index, [key, text]] of entries.entries()) {
      const failed = await this.command(key, text, index, run, call);
      if (run.capped || (failed && run.halt)) break;
    }
    if (envelope) load.ran(batchKey, run.processing, call.started);
    if (run.capped) {
      this.budget.book(load);
      return { reply: { status: 504, body: GATEWAY_TIMEOUT_HTML, contentType: 'text/html' }, commands: run.ran };
    }
    const times = run.refs.time as Map<string, TimeBlock>;
    let envelopeOp = { operating: 0, resetAt: Math.floor(call.started / 1000) + this.window };
    if (envelope) {
      // The portal billed the whole batch to `batch`: every sub-result shows the same cumulative figure.
      envelopeOp = this.operatingOf(batchKey, load);
      for (const t of times.values()) {
        t.operating = round(envelopeOp.operating);
        t.operating_reset_at = envelopeOp.resetAt;
      }
    }
    const { result, error, total, next } = run.refs;
    const env = {
      result: {
        result: phpMap(result),
        result_error: phpMap(error),
        result_total: phpMap(total),
        result_next: phpMap(next),
        result_time: phpMap(times),
      },
      time: this.timeBlock(call.started, run.processing, envelopeOp, call.started),
    };
    // The request ends: its calls are booked (finalize), visible to every request checked from now on.
    this.budget.book(load);
    return { reply: { status: 200, body: JSON.stringify(env), contentType: JSON_TYPE }, commands: run.ran };
  }

  /** A command's time passes; under envelope billing the batch's sum is recorded once, under `batch`, at its end. */
  private async spendCommand(run: BatchRun, key: string, cost: number, startedAt: number, envelope: boolean): Promise<void> {
    if (envelope) await this.pass(cost, run.clock);
    else await this.spend(run.load, key, cost, startedAt, run.clock);
  }

  /** One batch command. Returns true when it failed (for halt). */
  private async command(key: string, text: string, index: number, run: BatchRun, call: CallInfo): Promise<boolean> {
    const fail = (counter: Record<string, number>, error: string, description: string): true => {
      inc(counter, error || description);
      run.refs.error.set(key, { error, error_description: description });
      return true;
    };
    const refusal = (error: string, description: string) => fail(this.counters.refusals, error, description);
    if (index >= MAX_BATCH) return refusal('ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded');
    const cmd = parseCommand(key, text, run.refs);
    if (cmd.method === 'batch') return refusal('ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage');
    const known = LeadStore.methods.includes(cmd.method);
    const [, scopeError, scopeText] = AUTH_FAULTS.insufficientScope;
    if (known && !call.webhook.scopes.includes('crm')) return refusal(scopeError, scopeText);
    const envelope = this.o.batchBilling === 'envelope';
    const key2 = this.key(call.webhook, envelope ? 'batch' : cmd.method);
    if (!envelope && known && this.blocked(key2, run.load)) return refusal(...BLOCKED);
    const cost = this.costOf(cmd.method, cmd.params, call.requestSeq, index);
    const cap = this.o.requestCap;
    if (cap !== undefined && run.processing + cost > cap) {
      run.capped = true;
      return true;
    }
    const cmdStart = call.started + run.processing * 1000;
    if (known && this.faults.sqlErrorCommand()) {
      inc(this.counters.faults, 'sqlError');
      run.refs.error.set(key, { error: 'ERROR_CORE', error_description: 'SQL query error!' });
      return true;
    }
    run.ran++;
    inc(this.counters.batchCommands, cmd.method);
    try {
      const out = this.store.call(cmd.method, cmd.params, { via: 'batch', requestSeq: call.requestSeq, admin: call.webhook.admin });
      run.processing += cost;
      await this.spendCommand(run, key2, cost, cmdStart, envelope);
      run.refs.result.set(key, out.result);
      if (out.total !== undefined) run.refs.total.set(key, out.total);
      if (out.next !== undefined) run.refs.next.set(key, out.next);
      run.refs.time.set(key, this.timeBlock(cmdStart, cost, this.operatingOf(key2, run.load), call.started));
      return false;
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      if (err.status !== 404) {
        run.processing += cost;
        await this.spendCommand(run, key2, cost, cmdStart, envelope);
      }
      return fail(this.counters.errors, err.error, err.description);
    }
  }
}

interface CallInfo {
  webhook: Webhook;
  requestSeq: number;
  started: number;
}

interface BatchRun {
  halt: boolean;
  refs: BatchRefs;
  /** Server seconds the commands took so far (they run one after another). */
  processing: number;
  ran: number;
  capped: boolean;
  /** Real (performance.now) ms when the commands run so far end, at timeScale. */
  clock: { at: number };
  /** The request's calls (LoadLimiter's timeRegistered), booked when it ends. */
  load: RequestLoad;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}

function errorReply(status: number, error: string, description: string): Reply {
  return { status, body: JSON.stringify({ error, error_description: description }), contentType: JSON_TYPE };
}

function send(res: http.ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-type': reply.contentType ?? JSON_TYPE, ...(reply.headers ?? {}) });
  res.end(reply.body);
}

function inc(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON bodies as JSON; anything else as a form body (PHP reads both). Invalid JSON counts as no parameters. */
function parseBody(contentType: string | undefined, body: string): Record<string, unknown> {
  if (!body) return {};
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('json') || /^\s*[{[]/.test(body)) {
    try {
      const v: unknown = JSON.parse(body);
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return parsePhpQuery(body);
}

const FIRST = ['Anna', 'Boris', 'Clara', 'Dmitri', 'Elena', 'Farid', 'Galina', 'Hugo', 'Irina', 'Jonas', 'Katya', 'Lev'];
const LAST = ['Ivanova', 'Petrov', 'Schmidt', 'Novak', 'Smirnova', 'Kowalski', 'Meyer', 'Sokolov', 'Garcia', 'Volkova'];
const STAGES = ['NEW', 'IN_PROCESS', 'PROCESSED'];
const SOURCES = ['CALL', 'EMAIL', 'WEB', 'ADVERTISING', 'PARTNER', 'OTHER'];

/** What else randomLeads puts on its leads: the share of leads with each kind of system entry. */
export interface RandomLeadOptions {
  /** Share of leads bound to an Open Channel chat: an IM entry VALUE_TYPE OPENLINE or IMOL, VALUE "imol|…" (default 0.1). */
  openChannel?: number;
  /** Share of leads with a LINK entry (VALUE_TYPE USER; default 0.05). */
  link?: number;
}

/**
 * Deterministic plausible leads for benchmarks and the demo. The Open Channel and LINK entries are drawn
 * from a second stream, so the other fields of a given seed are the same whatever the options.
 */
export function randomLeads(n: number, seed: number, options: RandomLeadOptions = {}): Array<Record<string, unknown>> {
  const r = mulberry32(seed);
  const extra = mulberry32(seed ^ 0x1ea5_0c0d);
  const openChannel = options.openChannel ?? 0.1;
  const link = options.link ?? 0.05;
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  return Array.from({ length: n }, (_, i) => {
    const name = pick(FIRST);
    const last = pick(LAST);
    const lead: Record<string, unknown> = {
      TITLE: `${name} ${last} #${i + 1}`,
      NAME: name,
      LAST_NAME: last,
      STATUS_ID: pick(STAGES),
      SOURCE_ID: pick(SOURCES),
      OPPORTUNITY: Math.round(r() * 100_000) / 100,
      CURRENCY_ID: 'USD',
    };
    if (r() < 0.8) lead.PHONE = [{ VALUE: `+7${String(9_000_000_000 + Math.floor(r() * 999_999_999))}`, VALUE_TYPE: 'WORK' }];
    if (r() < 0.7) lead.EMAIL = [{ VALUE: `${name}.${last}${i}@example.com`.toLowerCase(), VALUE_TYPE: 'WORK' }];
    const [a, b, c] = [extra(), extra(), extra()];
    if (a < openChannel) {
      const chat = 100 + Math.floor(c * 90_000);
      lead.IM = [{ VALUE: `imol|livechat|1|${chat}|${1 + (chat % 7)}`, VALUE_TYPE: c < 0.5 ? 'OPENLINE' : 'IMOL' }];
    }
    if (b < link) lead.LINK = [{ VALUE: String(1 + Math.floor(c * 500)), VALUE_TYPE: 'USER' }];
    return lead;
  });
}
