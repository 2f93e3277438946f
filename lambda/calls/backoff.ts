/** Base of the exponential backoff, ms: the client's default and the sender's fixed base for re-sending rows. */
export const BACKOFF_BASE_MS = 500;
/** No single backoff waits longer than this, ms. */
export const BACKOFF_CAP_MS = 10_000;

/**
 * Wait before retry `n` (1 for the first): base·2^(n−1), capped, then ±20 % jitter so that senders that
 * failed together do not come back together. `jitter` is a draw in [0, 1) (Math.random()). Pure.
 *
 * @example backoffDelay(3, 0.5) // 2000
 */
export function backoffDelay(n: number, jitter: number, baseMs = BACKOFF_BASE_MS): number {
  return Math.round(Math.min(BACKOFF_CAP_MS, baseMs * 2 ** (n - 1)) * (0.8 + 0.4 * jitter));
}
