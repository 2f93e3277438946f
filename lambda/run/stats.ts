import type { SendStats } from '../types.ts';

/** A snapshot of the sender's stats (they are cumulative and mutable). */
export function copyStats(s: SendStats): SendStats {
  return { ...s, limitErrors: { ...s.limitErrors } };
}

/** What the sender did during this chunk (its stats may be cumulative over several chunks). */
export function diffStats(after: SendStats, before: SendStats): SendStats {
  const limitErrors: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.limitErrors)) {
    const d = v - (before.limitErrors[k] ?? 0);
    if (d !== 0) limitErrors[k] = d;
  }
  const out: SendStats = {
    requests: after.requests - before.requests,
    retries: after.retries - before.retries,
    throttledMs: after.throttledMs - before.throttledMs,
    limitErrors,
  };
  if (after.operatingSeconds !== undefined) out.operatingSeconds = after.operatingSeconds - (before.operatingSeconds ?? 0);
  if (after.writes !== undefined) out.writes = after.writes - (before.writes ?? 0);
  if (after.reads !== undefined) out.reads = after.reads - (before.reads ?? 0);
  return out;
}

/** The run's stats so far plus one chunk's. */
export function addStats(a: SendStats, b: SendStats): SendStats {
  const limitErrors = { ...a.limitErrors };
  for (const [k, v] of Object.entries(b.limitErrors)) limitErrors[k] = (limitErrors[k] ?? 0) + v;
  const out: SendStats = {
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    throttledMs: a.throttledMs + b.throttledMs,
    limitErrors,
  };
  if (a.operatingSeconds !== undefined || b.operatingSeconds !== undefined)
    out.operatingSeconds = (a.operatingSeconds ?? 0) + (b.operatingSeconds ?? 0);
  if (a.writes !== undefined || b.writes !== undefined) out.writes = (a.writes ?? 0) + (b.writes ?? 0);
  if (a.reads !== undefined || b.reads !== undefined) out.reads = (a.reads ?? 0) + (b.reads ?? 0);
  return out;
}
