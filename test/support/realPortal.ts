import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A canned answer from the scripted portal. */
export interface Canned {
  status?: number;
  body?: unknown;
  /** Raw text body (HTML pages); wins over `body`. */
  text?: string;
  headers?: Record<string, string>;
}

export interface ScriptedCall {
  method: string;
  path: string;
  params: Record<string, unknown>;
}

export interface Scripted {
  webhookUrl: string;
  base: string;
  calls: ScriptedCall[];
  close(): Promise<void>;
}

/**
 * A tiny portal whose answers a test writes by hand: shapes the sandbox never produces (PHP lists for maps,
 * numbers instead of strings, missing `time`, errors in odd places) but a real portal or another emulator may.
 */
export async function scripted(answer: (call: ScriptedCall, n: number) => Canned | Promise<Canned>): Promise<Scripted> {
  const calls: ScriptedCall[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let params: Record<string, unknown> = {};
    try {
      params = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      params = {};
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const method = (/\/([^/]+?)(?:\.json)?$/.exec(path)?.[1] ?? '').toLowerCase();
    const call = { method, path, params };
    calls.push(call);
    const c = await answer(call, calls.length);
    const text = c.text ?? (c.body === undefined ? '' : JSON.stringify(c.body));
    res.writeHead(c.status ?? 200, { 'content-type': c.text ? 'text/html' : 'application/json', ...(c.headers ?? {}) });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    webhookUrl: `${base}/rest/1/s3cretc0de/`,
    base,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Portal `time` block around now (seconds). */
export function timeBlock(operating = 0, resetIn = 600): Record<string, number> {
  const now = Date.now() / 1000;
  return { start: now, finish: now + 0.01, duration: 0.01, processing: 0.01, operating, operating_reset_at: Math.ceil(now + resetIn) };
}

/** The commands of a batch call: key → method and decoded query. */
export function commandsOf(call: ScriptedCall): Map<string, { method: string; query: URLSearchParams }> {
  const cmd = (call.params.cmd ?? {}) as Record<string, string>;
  const out = new Map<string, { method: string; query: URLSearchParams }>();
  for (const [key, text] of Object.entries(cmd)) {
    const q = text.indexOf('?');
    out.set(key, { method: q < 0 ? text : text.slice(0, q), query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) });
  }
  return out;
}
