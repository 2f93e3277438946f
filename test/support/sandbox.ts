/** Small HTTP helpers for the sandbox tests (real requests to the real local server). */
import type { Sandbox } from '../../harness/sandbox/portal.ts';

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the tests walk the portal's JSON answers field by field, as a client would
  body: any;
  text: string;
  headers: Headers;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

export async function callJson(sb: Sandbox, method: string, params: unknown = {}): Promise<Answer> {
  const res = await fetch(`${sb.webhookUrl}${method}.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  return answer(res);
}

export async function callForm(sb: Sandbox, method: string, form: string, query = ''): Promise<Answer> {
  const res = await fetch(`${sb.webhookUrl}${method}${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  return answer(res);
}

export async function get(url: string, init?: RequestInit): Promise<Answer> {
  return answer(await fetch(url, init));
}
