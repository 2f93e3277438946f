import { createClient, type PortalClient } from '../../lambda/calls/client.ts';
import { createSender } from '../../lambda/calls/sender.ts';
import { parseRunOptions, type RunOptions } from '../../lambda/config.ts';
import type { LeadFields, LeadSender, ValidRow, WritePlanner } from '../../lambda/types.ts';

export function row(line: number, id: number, fields: LeadFields, clears: string[] = []): ValidRow {
  return { line, id, fields, clears, warnings: [], raw: '' };
}

export const FAST = { rate: 20, burst: 10, operatingLimit: 100, operatingWindow: 10, concurrency: 4 };

export function setup(
  webhookUrl: string,
  limits: Partial<typeof FAST> = {},
  extra: { planner?: WritePlanner; dryRun?: boolean; timeoutMs?: number; fetch?: typeof fetch; backoffMs?: number } = {},
): { client: PortalClient; sender: LeadSender; logs: string[]; options: RunOptions } {
  const logs: string[] = [];
  const options = parseRunOptions({ dryRun: extra.dryRun ?? false, limits: { ...FAST, ...limits } });
  const client = createClient({
    webhookUrl,
    limits: options.limits,
    timeoutMs: extra.timeoutMs,
    fetch: extra.fetch,
    backoffMs: extra.backoffMs ?? 20,
    log: (l) => logs.push(l),
  });
  const sender = createSender({ api: client, planner: extra.planner, options });
  return { client, sender, logs, options };
}

export const FAR = () => Date.now() + 120_000;

/** One request the fake portal received: the method (from the URL) and the parsed JSON body. */
export interface FakeCall {
  method: string;
  url: string;
  body: string;
  params: Record<string, unknown>;
  /** Fake-clock ms when it was sent. */
  at: number;
}

/** A canned HTTP answer: JSON `body`, or raw `text` (HTML pages), or `throws` (a timeout / reset). */
export interface FakeAnswer {
  status?: number;
  body?: unknown;
  text?: string;
  throws?: Error;
}

/**
 * A clock for the client and the sender: it runs with real time, and every `sleep` jumps it ahead at once, so
 * waits of minutes for an operating reset pass instantly while real timers (the sender's backoff) still work.
 */
export function fakeClock(start = 1_700_000_000_000): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  const real0 = Date.now();
  let skew = start - real0;
  const slept: number[] = [];
  return {
    now: () => Date.now() + skew,
    sleep: async (ms) => {
      slept.push(ms);
      skew += Math.max(0, ms);
    },
    slept,
  };
}

/** A fetch that answers from `answer` (no network), recording every call. */
export function fakeFetch(
  answer: (call: FakeCall, n: number) => FakeAnswer,
  now: () => number = Date.now,
): { fetch: typeof fetch; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    const body = String(init?.body ?? '');
    let params: Record<string, unknown> = {};
    try {
      params = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      params = {};
    }
    const method = (/\/([^/]+?)(?:\.json)?$/.exec(new URL(url).pathname)?.[1] ?? '').toLowerCase();
    const call = { method, url, body, params, at: now() };
    calls.push(call);
    const a = answer(call, calls.length);
    if (a.throws) throw a.throws;
    const text = a.text ?? (a.body === undefined ? '' : JSON.stringify(a.body));
    return new Response(text, { status: a.status ?? 200, headers: { 'content-type': a.text ? 'text/html' : 'application/json' } });
  };
  return { fetch: impl as typeof fetch, calls };
}

/** The commands of a batch call: key → method and decoded query (null when the call is not a batch). */
export function batchCommands(call: FakeCall): Map<string, { method: string; query: URLSearchParams }> {
  const cmd = (call.params.cmd ?? {}) as Record<string, string>;
  const out = new Map<string, { method: string; query: URLSearchParams }>();
  for (const [key, text] of Object.entries(cmd)) {
    const q = text.indexOf('?');
    out.set(key, { method: q < 0 ? text : text.slice(0, q), query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) });
  }
  return out;
}

/** A `batch` answer body: every key of `cmds` succeeds with `true` unless `errors` names it. */
export function batchAnswer(
  keys: Iterable<string>,
  opts: { errors?: Record<string, unknown>; times?: Record<string, unknown>; time?: unknown } = {},
): Record<string, unknown> {
  const errors = opts.errors ?? {};
  const result = Object.fromEntries([...keys].filter((k) => !(k in errors)).map((k) => [k, true]));
  const r = {
    result: Object.keys(result).length ? result : [],
    result_error: Object.keys(errors).length ? errors : [],
    result_total: [],
    result_next: [],
    result_time: opts.times && Object.keys(opts.times).length ? opts.times : [],
  };
  return opts.time === undefined ? { result: r } : { result: r, time: opts.time };
}

/**
 * A client and a sender on a fake fetch and a fake clock, with the production limits unless told otherwise
 * (480 s operating budget in 600 s, 2 req/s), so waits are the real ones but pass instantly.
 */
export function fakeSetup(
  answer: (call: FakeCall, n: number) => FakeAnswer,
  extra: {
    planner?: (client: PortalClient, options: RunOptions) => WritePlanner;
    limits?: Partial<RunOptions['limits']>;
    timeoutMs?: number;
  } = {},
): { client: PortalClient; sender: LeadSender; calls: FakeCall[]; clock: ReturnType<typeof fakeClock>; logs: string[] } {
  const clock = fakeClock();
  const { fetch: f, calls } = fakeFetch(answer, clock.now);
  const logs: string[] = [];
  const options = parseRunOptions({ limits: { concurrency: 1, ...extra.limits } });
  const client = createClient({
    webhookUrl: 'https://acme.bitrix24.ru/rest/1/s3cretc0de/',
    limits: options.limits,
    fetch: f,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    timeoutMs: extra.timeoutMs,
    log: (l) => logs.push(l),
  });
  const planner = extra.planner?.(client, options);
  const sender = createSender({ api: client, planner, options, now: clock.now, random: () => 0.5 });
  return { client, sender, calls, clock, logs };
}
