import { parseRunOptions, type RunOptions } from '../config.ts';
import type { Checkpoint } from './state.ts';

/** How long a run waits out an unreachable portal before it halts: the option's default (lambda/config.ts, 6 hours). */
export const DEFAULT_OUTAGE_WAIT_MS = parseRunOptions({}).outageWaitMs;

/** Between two chunks while the portal is unreachable (the workflow waits this long, not a Lambda). */
export const OUTAGE_RETRY_MS = 60_000;

export const PORTAL_UNREACHABLE = 'PORTAL_UNREACHABLE';

/** The run's outage wait (lambda/config.ts `outageWaitMs`; a state written before the option existed has none). */
export function outageWaitMs(options: RunOptions): number {
  const wait: number | undefined = options.outageWaitMs;
  return wait ?? DEFAULT_OUTAGE_WAIT_MS;
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
  delete cp.waitUntilIso;
}

/**
 * After a chunk: record the outage (keeping when it began) and when to try again, or clear it once the portal
 * answered. The outage is timed on the run's clock (`now`, the chunk's), not the sender's: the wait is measured
 * against the same clock the next chunks and the workflow's Wait state use.
 */
export function recordOutage(cp: Checkpoint, heard: Unreachable | undefined, now: number): void {
  if (heard && !cp.halted) {
    cp.unreachable = { since: cp.unreachable?.since ?? now, code: heard.code, message: heard.message };
    setWaitUntil(cp, now + OUTAGE_RETRY_MS);
    return;
  }
  delete cp.unreachable;
  delete cp.waitUntil;
  delete cp.waitUntilIso;
}

/** When the next chunk may start, as epoch ms (the CLI's driver) and as ISO 8601 (Step Functions' Wait TimestampPath). */
function setWaitUntil(cp: Checkpoint, at: number): void {
  cp.waitUntil = at;
  cp.waitUntilIso = new Date(at).toISOString();
}
