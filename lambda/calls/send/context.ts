import type { RunOptions } from '../../config.ts';
import type { WritePlanner } from '../../types.ts';
import type { PortalClient } from '../client.ts';
import type { OutageClock } from './outage.ts';

/** What every step of one sender shares: the portal, the planner, the run's options and clocks. */
export interface SendContext {
  readonly api: PortalClient;
  readonly planner: WritePlanner;
  readonly options: RunOptions;
  /** Local clock, ms. */
  readonly now: () => number;
  /** Jitter for the backoff. */
  readonly random: () => number;
  /**
   * The planner does not read leads (BlindPlanner): rows of one lead are not chained, and an ambiguous append
   * cannot be checked against the lead, so it is reported AMBIGUOUS_WRITE.
   */
  readonly blind: boolean;
  /** Since when the portal fails as an unreachable one does (shared by every window of this sender). */
  readonly outage: OutageClock;
}
