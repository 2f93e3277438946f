import type { Billing, PortalTime, Throttle } from '../limits/throttle.ts';
import { methodOfKey, resultTimes, timeOf, totalUnits } from './batchBody.ts';

/**
 * Feeds the throttle with the operating figures of an accepted answer: the envelope's `time`, and for a batch
 * each nested result_time, charged to its command's method. Returns the operating seconds the answer charged.
 *
 * Work is priced from the growth of `operating` between answers, per method, never from `processing`: current
 * portals print `processing` (and `start`) as whole seconds, mostly 0 and sometimes 1 (SRV rest.php).
 */
export function observeTimes(throttle: Throttle, method: string, body: unknown, billing: Billing): number {
  const time = timeOf(body);
  const units = billing.reduce((s, b) => (b.method === method ? s + b.units : s), 0) || 1;
  const envelope = time ? throttle.observe(method, time, method === 'batch' ? totalUnits(billing) : units) : 0;
  if (method !== 'batch') return envelope;
  const inner = resultTimes(body);
  if (!inner || typeof inner !== 'object') return envelope;
  let nested = 0;
  for (const [m, p] of nestedByMethod(inner as Record<string, PortalTime>, billing)) {
    nested += throttle.observe(m, { ...p.time, finish: time?.finish ?? p.time.finish }, p.units);
  }
  // Envelope billing (everything charged to `batch`) or nested billing (the envelope reads 0): one of the two.
  return Math.max(envelope, nested);
}

/** Nested figures, per method: the highest cumulative operating, and the number of commands. */
function nestedByMethod(inner: Record<string, PortalTime>, billing: Billing): Map<string, { time: PortalTime; units: number }> {
  const per = new Map<string, { time: PortalTime; units: number }>();
  for (const [key, t] of Object.entries(inner)) {
    const m = methodOfKey(billing, key) ?? billing.find((b) => b.method !== 'batch')?.method;
    if (!m || !t || typeof t !== 'object') continue;
    const cur = per.get(m) ?? { time: t, units: 0 };
    if (Number(t.operating ?? 0) >= Number(cur.time.operating ?? 0)) cur.time = t;
    cur.units += 1;
    per.set(m, cur);
  }
  return per;
}
