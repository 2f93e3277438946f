import type { BatchResult, PortalErrorBody } from '../../types.ts';
import type { Billing, PortalTime } from '../limits/throttle.ts';
import { errorBody } from './errorText.ts';

/** Reading the portal's answer bodies: the `time` envelope and `batch`'s per-key maps. Pure. */

/** A batch's billing also remembers each command key's method, to charge nested figures to the right method. */
export type BillingWithKeys = Billing & { byKey?: Map<string, string> };

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

/** The method a batch command key was billed to, if the billing came from `batchBilling`. */
export function methodOfKey(billing: Billing, key: string): string | undefined {
  return (billing as BillingWithKeys).byKey?.get(key);
}

/** How many commands a billing covers (its `batch` units; 1 for a single call). */
export function totalUnits(billing: Billing): number {
  return billing.find((b) => b.method === 'batch')?.units ?? 1;
}

export function timeOf(body: unknown): PortalTime | undefined {
  const t = body && typeof body === 'object' ? (body as { time?: unknown }).time : undefined;
  return t && typeof t === 'object' ? (t as PortalTime) : undefined;
}

/** When a blocked method's operating budget resets (portal seconds), if the `time` block says. */
export function resetAt(time: PortalTime | undefined): number | undefined {
  return time?.operating_reset_at !== undefined ? Number(time.operating_reset_at) : undefined;
}

/**
 * `batch`'s per-command `time` blocks by key (the raw value: may be missing, a PHP list, or odd entries).
 * `body` is an accepted answer's (never undefined).
 */
export function resultTimes(body: unknown): unknown {
  return (body as { result?: { result_time?: unknown } }).result?.result_time;
}

/**
 * `batch`'s body → per-key results and errors (PHP's `[]` for an empty map becomes {}). Each command's error is
 * made of two capped strings, whatever the portal put there (see errorBody).
 */
export function unwrapBatch(body: unknown): BatchResult {
  const r = (body as { result?: Record<string, unknown> } | undefined)?.result ?? {};
  const errors: Record<string, PortalErrorBody> = {};
  for (const [key, err] of Object.entries(asMap(r.result_error))) if (err != null) errors[key] = errorBody(err);
  return { result: asMap(r.result) as Record<string, unknown>, errors };
}

export function asMap(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object') return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return v as Record<string, unknown>;
}
