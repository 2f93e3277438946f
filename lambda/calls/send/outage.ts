import { TransientError } from '../../errors.ts';

/**
 * How long the portal must keep failing as an outage does (refused or reset connections, timeouts, 502/503/504
 * pages), with no answer in between, before a send stops and reports it unreachable instead of failing rows:
 * the client's own retries and the row retries cover a blip; past this the engine waits between chunks.
 */
export const OUTAGE_AFTER_MS = 30_000;

/** A failure an unreachable portal gives (after the client's retries). */
export function isOutageFailure(e: unknown): e is TransientError {
  return e instanceof TransientError && (e.code === 'NETWORK_ERROR' || e.code === 'TIMEOUT' || /^HTTP_50[234]$/.test(e.code));
}

/** When the portal started failing as an outage does, across windows; any answer resets it. */
export class OutageClock {
  private since: number | undefined;

  constructor(private readonly after = OUTAGE_AFTER_MS) {}

  answered(): void {
    this.since = undefined;
  }

  /** Records an outage failure at `now`; true once failures have lasted `after` ms with no answer. */
  failed(now: number): boolean {
    this.since ??= now;
    return now - this.since >= this.after;
  }

  /** Epoch ms of the first failure of the current streak (undefined: the portal answers). */
  get failingSince(): number | undefined {
    return this.since;
  }
}
