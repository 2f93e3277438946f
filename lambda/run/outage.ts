import type { RunOptions } from '../config.ts';
import type { Checkpoint } from './state.ts';

/** How long a run waits out an unreachable portal before it halts (default 6 hours). */
export const DEFAULT_OUTAGE_WAIT_MS = 6 * 60 * 60 * 1000;

/** Between two chunks while the portal is unreachable (the workflow waits this long, not a Lambda). */
export const OUTAGE_RETRY_MS = 60_000;

export const PORTAL_UNREACHABLE = 'PORTAL_UNREACHABLE';

/** The run's outage wait: `options.outageWaitMs` when the options carry it (lambda/config.ts), else the default. */
export function outageWaitMs(options: RunOptions): number {
  const v = (options as RunOptions & { outageWaitMs?: unknown }).outageWaitMs;
  return typeof v === 'number' && v >= 0 ? v : DEFAULT_OUTAGE_WAIT_MS;
}

/** What the pipeline heard: the portal stopped answering since `since`. */
export interface Unreachable {
  since: number;
  code: string;
  message: string;
}

/**
 * At a chunk's start: an outage that has lasted past the run's wait halts the run (every unsent row is then
 * `skipped` PORTAL_UNREACHABLE, as for any halt).
 */
export function haltIfOutageOutlasted(cp: Checkpoint, options: RunOptions, now: number): void {
  const u = cp.unreachable;
  if (!u || cp.halted) return;
  const wait = outageWaitMs(options);
  if (now - u.since < wait) return;
  const minutes = Math.round((now - u.since) / 60_000);
  cp.halted = {
    code: PORTAL_UNREACHABLE,
    message: `the portal has been unreachable for ${minutes} min (since ${new Date(u.since).toISOString()}, last: ${u.code} ${u.message}), past the run's outage wait of ${Math.round(wait / 60_000)} min; the rest of the file is skipped`,
  };
  delete cp.waitUntil;
}

/** After a chunk: record the outage (keeping when it began) and when to try again, or clear it once the portal answered. */
export function recordOutage(cp: Checkpoint, heard: Unreachable | undefined, now: number): void {
  if (heard && !cp.halted) {
    cp.unreachable = { since: cp.unreachable?.since ?? heard.since, code: heard.code, message: heard.message };
    cp.waitUntil = now + OUTAGE_RETRY_MS;
    return;
  }
  delete cp.unreachable;
  delete cp.waitUntil;
}
