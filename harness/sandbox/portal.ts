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
 *   `seedLeads(leads) → ids`, `seedRandom(n, seed?) → ids`, `lead(id)` / `leads()` (as crm.lead.get prints
 *   them), `ledger()` (every applied write as received), `stats()`, `setFaults(f)`, `setOverload(on)`,
 *   `close()`.
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
 * OPERATION_TIME_LIMIT) → the method → latency / slow fault → reply (or reset the connection after applying).
 * A moved portal: `movedPrefix` answers 302 to the same path without the prefix; `redirectTo` answers every
 * /rest/ request with a 302 to that base URL (an "old host" sandbox).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LeadRecord } from '../../lambda/types.ts';
import { MAX_BATCH, commandEntries, emptyRefs, parseCommand, phpMap, phpTruthy } from './batch.ts';
import { DEFAULT_USER_FIELDS, type StatusOptions, type UserFieldOption } from './catalogue.ts';
import { Faults, mulberry32, type FaultOptions } from './faults.ts';
import { LeadStore, RestError, param, type LedgerEntry, type MethodResult } from './leads.ts';
import { DEFAULT_COSTS, LeakyBucket, OperatingBudget, costOf, round } from './limits.ts';
import { mergeParams, parsePhpQuery } from './query.ts';
import { isoAt } from './values.ts';

export type { FaultOptions } from './faults.ts';
export type { LedgerEntry } from './leads.ts';
export type { UserFieldOption, StatusOptions } from './catalogue.ts';

export interface SandboxOptions {
  /** Webhook user id (default 1). */
  userId?: number;
  /** Webhook secret code (default: random per sandbox). */
  code?: string;
  /** Leaky bucket drain, requests/s (default 2). */
  rate?: number;
  /** Leaky bucket size (default 50). */
  burst?: number;
  /** Operating budget per method, seconds of server time in the window (default 480). */
  operatingLimit?: number;
  /** Operating window, seconds (default 600; tests compress it, e.g. 10). */
  operatingWindow?: number;
  /** Server time per command, seconds: `{ 'crm.lead.update': 0.2, default: 0.01 }`. */
  costs?: Record<string, number>;
  /** 'nested' (default): each command billed to its own method; 'envelope': the whole batch billed to `batch`. */
  batchBilling?: 'nested' | 'envelope';
  /** Hard cap on one request's server time, seconds (e.g. 60). Commands past it are not run; the reply is 504. */
  requestCap?: number;
  /** Real delay added per request and per command, ms. */
  latencyMs?: { request?: number; command?: number };
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
  /** Operating seconds in the window per method. */
  operating: Record<string, number>;
  /** Writes applied (ledger length). */
  writes: number;
}

export interface Sandbox {
  url: string;
  webhookUrl: string;
  seedLeads(leads: Array<Record<string, unknown>>): number[];
  seedRandom(n: number, seed?: number): number[];
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
    seedLeads: (leads) => portal.store.seed(leads),
    seedRandom: (n, seed) => portal.store.seed(randomLeads(n, seed ?? options.seed ?? 1)),
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

class Portal {
  readonly userId: number;
  readonly code: string;
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
  private readonly admin: boolean;
  private readonly maxBody: number;
  private readonly scopes: string[];
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
    this.now = o.now ?? Date.now;
    this.tz = o.tzOffset ?? 180;
    this.admin = o.admin ?? true;
    this.maxBody = o.maxBodyBytes ?? 8 * 1024 * 1024;
    this.scopes = o.scopes ?? ['crm'];
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
    return {
      ...structuredClone(this.counters),
      operating: this.budget.snapshot(),
      writes: this.store.writes(),
    };
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

    // CRestServer's order: the portal is open → the method exists → auth.
    if (this.authFault === 'portalDeleted') return send(res, this.refuse(...AUTH_FAULTS.portalDeleted));
    if (method !== 'batch' && !LeadStore.methods.includes(method)) {
      return send(res, errorReply(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!'));
    }
    if (!hook) return send(res, this.refuse(...AUTH_FAULTS.noAuth)); // no OAuth tokens on this portal
    if (hook[1] !== String(this.userId) || hook[2] !== this.code) {
      return send(res, this.refuse(401, 'INVALID_CREDENTIALS', 'Invalid request credentials'));
    }
    if (this.authFault) return send(res, this.refuse(...AUTH_FAULTS[this.authFault]));
    if (method !== 'batch' && !this.scopes.includes('crm')) return send(res, this.refuse(...AUTH_FAULTS.insufficientScope));
    if (this.faults.overloaded()) {
      inc(this.counters.faults, 'overload');
      return send(res, this.refuse(503, 'OVERLOAD_LIMIT', 'REST API is blocked due to overload'));
    }
    if (!this.bucket.take()) return send(res, this.refuse(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests'));

    const fault = this.faults.decide();
    if (fault.internalError) {
      inc(this.counters.faults, 'internalError');
      return send(res, errorReply(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
    if (fault.badGateway) {
      inc(this.counters.faults, 'badGateway');
      return send(res, { status: 502, body: BAD_GATEWAY_HTML, contentType: 'text/html' });
    }
    if (method !== 'batch' && this.faults.sqlError()) {
      inc(this.counters.faults, 'sqlError');
      return send(res, errorReply(500, 'ERROR_CORE', 'SQL query error!'));
    }

    const params = mergeParams(parsePhpQuery(url.search.slice(1)), parseBody(req.headers['content-type'], body));
    const outcome = method === 'batch' ? this.batch(params, requestSeq, started) : this.single(method, params, requestSeq, started);

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

  /** The `time` block. Like current portals, operating_reset_at is always there (start + window when idle). */
  private timeBlock(started: number, processing: number, method: string): TimeBlock {
    const finishedMs = Math.max(this.now(), started + processing * 1000);
    return {
      start: started / 1000,
      finish: finishedMs / 1000,
      duration: round((finishedMs - started) / 1000),
      processing: round(processing),
      date_start: isoAt(started, this.tz),
      date_finish: isoAt(finishedMs, this.tz),
      operating_reset_at: this.budget.resetAt(method) ?? Math.ceil(started / 1000 + this.window),
      operating: round(this.budget.operating(method)),
    };
  }

  /** One top-level method call. */
  private single(method: string, params: Record<string, unknown>, requestSeq: number, started: number): { reply: Reply; commands: number } {
    if (this.budget.blocked(method)) {
      return { reply: this.refuse(429, 'OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit'), commands: 0 };
    }
    const cost = costOf(this.costs, method);
    const cap = this.o.requestCap;
    let out: MethodResult;
    try {
      out = this.store.call(method, params, { via: 'direct', requestSeq, admin: this.admin });
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      if (err.status !== 404) this.budget.charge(method, cost);
      inc(this.counters.errors, err.error || err.description);
      return { reply: errorReply(err.status, err.error, err.description), commands: 1 };
    }
    this.budget.charge(method, cost);
    if (cap !== undefined && cost > cap)
      return { reply: { status: 504, body: GATEWAY_TIMEOUT_HTML, contentType: 'text/html' }, commands: 1 };
    const env: Record<string, unknown> = { result: out.result };
    if (out.next !== undefined) env.next = out.next;
    if (out.total !== undefined) env.total = out.total;
    env.time = this.timeBlock(started, cost, method);
    return { reply: { status: 200, body: JSON.stringify(env), contentType: JSON_TYPE }, commands: 1 };
  }

  private batch(params: Record<string, unknown>, requestSeq: number, started: number): { reply: Reply; commands: number } {
    const envelope = this.o.batchBilling === 'envelope';
    if (envelope && this.budget.blocked('batch')) {
      return { reply: this.refuse(429, 'OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit'), commands: 0 };
    }
    const entries = commandEntries(param(params, 'cmd')) ?? [];
    const halt = phpTruthy(param(params, 'halt'));
    const refs = emptyRefs();
    const result = refs.result;
    const errors = refs.error;
    const totals = refs.total;
    const nexts = refs.next;
    const times = refs.time as Map<string, TimeBlock>;
    const timedMethods = new Map<string, string>();
    let processing = 0;
    let ran = 0;
    let capped = false;
    const cap = this.o.requestCap;

    let index = 0;
    for (const [key, text] of entries) {
      // methodsBatch runs the first 50; every later command gets its own refusal (and halt stops at the first).
      if (index++ >= MAX_BATCH) {
        inc(this.counters.refusals, 'ERROR_BATCH_LENGTH_EXCEEDED');
        errors.set(key, { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' });
        if (halt) break;
        continue;
      }
      const cmd = parseCommand(key, text, refs);
      const cmdStart = started + processing * 1000;
      if (cmd.method === 'batch') {
        inc(this.counters.refusals, 'ERROR_BATCH_METHOD_NOT_ALLOWED');
        errors.set(key, { error: 'ERROR_BATCH_METHOD_NOT_ALLOWED', error_description: 'Method is not allowed for batch usage' });
        if (halt) break;
        continue;
      }
      if (!envelope && this.budget.blocked(cmd.method)) {
        inc(this.counters.refusals, 'OPERATION_TIME_LIMIT');
        errors.set(key, { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit' });
        if (halt) break;
        continue;
      }
      const cost = costOf(this.costs, cmd.method);
      if (cap !== undefined && processing + cost > cap) {
        capped = true;
        break;
      }
      ran++;
      inc(this.counters.batchCommands, cmd.method);
      const billTo = envelope ? 'batch' : cmd.method;
      if (cmd.method !== 'batch' && LeadStore.methods.includes(cmd.method) && !this.scopes.includes('crm')) {
        inc(this.counters.refusals, 'insufficient_scope');
        errors.set(key, { error: AUTH_FAULTS.insufficientScope[1], error_description: AUTH_FAULTS.insufficientScope[2] });
        if (halt) break;
        continue;
      }
      if (LeadStore.methods.includes(cmd.method) && this.faults.sqlErrorCommand()) {
        inc(this.counters.faults, 'sqlError');
        errors.set(key, { error: 'ERROR_CORE', error_description: 'SQL query error!' });
        if (halt) break;
        continue;
      }
      try {
        const out = this.store.call(cmd.method, cmd.params, { via: 'batch', requestSeq, admin: this.admin });
        this.budget.charge(billTo, cost);
        processing += cost;
        result.set(key, out.result);
        if (out.total !== undefined) totals.set(key, out.total);
        if (out.next !== undefined) nexts.set(key, out.next);
        times.set(key, this.timeBlock(cmdStart, cost, billTo));
        timedMethods.set(key, billTo);
      } catch (err) {
        if (!(err instanceof RestError)) throw err;
        if (err.status !== 404) {
          this.budget.charge(billTo, cost);
          processing += cost;
        }
        inc(this.counters.errors, err.error || err.description);
        errors.set(key, { error: err.error, error_description: err.description });
        if (halt) break;
      }
    }
    if (capped) return { reply: { status: 504, body: GATEWAY_TIMEOUT_HTML, contentType: 'text/html' }, commands: ran };
    if (envelope) {
      // The portal billed the whole batch to `batch`: every sub-result shows the same cumulative figure.
      const op = round(this.budget.operating('batch'));
      const reset = this.budget.resetAt('batch');
      for (const t of times.values()) {
        t.operating = op;
        t.operating_reset_at = reset ?? t.operating_reset_at;
      }
    }
    const env = {
      result: {
        result: phpMap(result),
        result_error: phpMap(errors),
        result_total: phpMap(totals),
        result_next: phpMap(nexts),
        result_time: phpMap(times),
      },
      time: this.timeBlock(started, processing, 'batch'),
    };
    return { reply: { status: 200, body: JSON.stringify(env), contentType: JSON_TYPE }, commands: ran };
  }
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

/** Deterministic plausible leads for benchmarks and the demo. */
export function randomLeads(n: number, seed: number): Array<Record<string, unknown>> {
  const r = mulberry32(seed);
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
    return lead;
  });
}
