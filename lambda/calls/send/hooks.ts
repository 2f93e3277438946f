import type { RowOutcome, ValidRow } from '../../types.ts';

/**
 * What the engine hears from one `send` while it runs, so it can persist what the portal applied before the
 * chunk returns or dies (lambda/run/journal.ts), and what it tells the sender of an earlier attempt.
 */
export interface SendHooks {
  /** Before a request that may write goes out: its rows. Awaited, so the record is durable first. */
  sending?(rows: readonly ValidRow[]): Promise<void>;
  /** A row got its final outcome (not called for rows left DEFERRED or skipped by a halt). */
  settled?(row: ValidRow, outcome: RowOutcome): void;
  /**
   * Lines of rows an earlier attempt of this chunk sent without recording the answer: the portal may have applied
   * them. Diff: a re-read that finds nothing to write reports the row `updated`; blind: an append is reported
   * AMBIGUOUS_WRITE instead of sent again (sets go again: they are idempotent).
   */
  maybeApplied?: ReadonlySet<number>;
  /**
   * The portal is unreachable (refused connections, timeouts, 502/503/504 pages) since `since` (epoch ms): the
   * send stopped; its unfinished rows come back DEFERRED.
   */
  unreachable?(code: string, message: string, since: number): void;
}
