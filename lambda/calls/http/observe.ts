import type { Billing, PortalTime, Throttle } from '../limits/throttle.ts';
import { methodOfKey, resultTimes, timeOf, totalUnits } from './batchBody.ts';

/**
 * Feeds the throttle with the operating figures of an accepted answer: the envelope's `time`, and for a batch
 * each nested result_time, charged to its command's method. Returns the operating seconds the answer reports.
 */
export function observeTimes(throttle: Throttle, method: string, body: unknown, billing: Billing): number {
  const time = timeOf(body);
  const units = billing.reduce((s, b) => (b.method === method ? s + b.units : s), 0) || 1;
  let spent = 0;
  if (time) {
    spent = Number(time.processing ?? time.duration ?? 0) || 0;
    throttle.observe(method, time, method === 'batch' ? totalUnits(billing) : units, Number(time.processing ?? 0) || undefined);
  }
  if (method !== 'batch') return spent;
  const inner = resultTimes(body);
  if (!inner || typeof inner !== 'object') return spent;
  for (const [m, p] of nestedByMethod(inner as Record<string, PortalTime>, billing)) {
    throttle.observe(m, { ...p.time, finish: time?.finish ?? p.time.finish }, p.units, p.spent || undefined);
  }
  return spent;
}

/** Nested figures, per method: the highest cumulative operating, and the sum of processing. */
function nestedByMethod(
  inner: Record<string, PortalTime>,
  billing: Billing,
): Map<string, { time: PortalTime; spent: number; units: number }> {
  const per = new Map<string, { time: PortalTime; spent: number; units: number }>();
  for (const [key, t] of Object.entries(inner)) {
    const m = methodOfKey(billing, key) ?? billing.find((b) => b.method !== 'batch')?.method;
    if (!m || !t || typeof t !== 'object') continue;
    const cur = per.get(m) ?? { time: t, spent: 0, units: 0 };
    if (Number(t.operating ?? 0) >= Number(cur.time.operating ?? 0)) cur.time = t;
    cur.spent += Number(t.processing ?? 0) || 0;
    cur.units += 1;
    per.set(m, cur);
  }
  return per;
}
