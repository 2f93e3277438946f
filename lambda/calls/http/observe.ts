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
    const unit = unitCost(p.ops);
    // The request's own start and finish: the portal books its commands together, into the bucket of its start.
    const whole = { ...p.time, finish: time?.finish ?? p.time.finish, start: time?.start ?? p.time.start };
    nested += throttle.observe(m, whole, p.units, undefined, unit, bookings(p.ops, unit));
  }
  // Envelope billing (everything charged to `batch`) or nested billing (the envelope reads 0): one of the two.
  return Math.max(envelope, nested);
}

interface Op {
  operating: number;
  reset: unknown;
  finish?: number;
}

interface Nested {
  time: PortalTime;
  units: number;
  /** Each command's cumulative operating, reset and finish (Unix s), in the order they ran. */
  ops: Op[];
}

/** Nested figures, per method: the highest cumulative operating, the number of commands, each one's figures. */
function nestedByMethod(inner: Record<string, PortalTime>, billing: Billing): Map<string, Nested> {
  const per = new Map<string, Nested>();
  for (const [key, t] of Object.entries(inner)) {
    const m = methodOfKey(billing, key) ?? billing.find((b) => b.method !== 'batch')?.method;
    if (!m || !t || typeof t !== 'object') continue;
    const cur = per.get(m) ?? { time: t, units: 0, ops: [] };
    if (Number(t.operating ?? 0) >= Number(cur.time.operating ?? 0)) cur.time = t;
    cur.units += 1;
    cur.ops.push({ operating: Number(t.operating), reset: t.operating_reset_at, finish: Number(t.finish) });
    per.set(m, cur);
  }
  return per;
}

/**
 * The cost of one command, from inside one batch: the batch books each command when it ends, so its commands'
 * cumulative `operating` grows by one command's cost each (other requests booking meanwhile only make it
 * dearer). Unusable when the figures do not grow, or when a bucket expired during the batch (the reset moved, or operating fell).
 */
export function unitCost(ops: Op[]): number | undefined {
  if (ops.length < 2) return undefined;
  for (let i = 1; i < ops.length; i++) {
    if (!Number.isFinite(ops[i].operating) || ops[i].reset !== ops[0].reset || ops[i].operating < ops[i - 1].operating) return undefined;
  }
  const growth = ops[ops.length - 1].operating - ops[0].operating;
  // No growth: free commands, or a portal that books the whole batch at its end; the next delta tells which.
  return growth > 0 ? growth / (ops.length - 1) : undefined;
}

/**
 * When each command's time was booked (its own `finish`, portal ms) and how much: the growth of operating since
 * the command before (the first is priced at `unit`). Our charges then free when the portal's buckets do, not
 * a whole batch later. undefined when the figures are unusable (see unitCost) or a finish is missing.
 */
export function bookings(ops: Op[], unit: number | undefined): { at: number; cost: number }[] | undefined {
  if (unit === undefined || !ops.every((o) => o.finish !== undefined && Number.isFinite(o.finish))) return undefined;
  return ops.map((o, i) => ({ at: (o.finish as number) * 1000, cost: i === 0 ? unit : o.operating - ops[i - 1].operating }));
}
