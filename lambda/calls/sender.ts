import type { RunOptions } from '../config.ts';
import { DeferredError } from '../errors.ts';
import {
  DEFERRED,
  type LeadSender,
  type PlannedWrite,
  type RowOutcome,
  type SendStats,
  type ValidRow,
  type WritePlanner,
} from '../types.ts';
import type { PortalClient } from './client.ts';
import type { ThrottleSnapshot } from './limits/throttle.ts';
import { admit } from './send/admit.ts';
import { BlindPlanner, blindPlanner } from './send/blindPlanner.ts';
import type { SendContext } from './send/context.ts';
import type { SendHooks } from './send/hooks.ts';
import { drive } from './send/drive.ts';
import { isOutageFailure, OutageClock } from './send/outage.ts';
import { outcome } from './send/outcomes.ts';
import { replanStale } from './send/replan.ts';
import { MAX_BATCH, WRITE_METHOD } from './send/item.ts';
import { runBatch, writeBilling } from './send/runBatch.ts';
import { SendWindow } from './send/window.ts';

/**
 * The calls stage: valid rows → planned writes → `batch` calls of up to 50 crm.lead.update (halt=0) →
 * exactly one outcome per row, in order.
 *
 * - Commands are keyed `r<line>`, so each result or error maps back to its row; `result_error` is always
 *   walked (HTTP 200 hides failures); a key in neither map did not run and is sent again.
 * - A row with a value `batch` would substitute (`$result`, `$next`, `$total`, `$time`, `$error`, any case) goes
 *   alone as a direct crm.lead.update call (JSON body), under the same pacing, outcome and retry rules.
 * - A lead appears at most once per batch and never in two batches in flight: a later row for the same ID
 *   waits until the earlier one is final, so rows for one lead apply in file order.
 * - Up to `limits.concurrency` batches in flight (p-limit); pacing is the client's throttle. Each batch carries
 *   what the portal's operating budgets fit (Throttle.fit: a window ends with a smaller batch, not a full one
 *   held back) and holds its place in them from the moment it is sized (Throttle.reserve).
 * - Per-command OPERATION_TIME_LIMIT / QUERY_LIMIT_EXCEEDED: the command was refused, so it is sent again
 *   after the method's block lifts. A per-command ERROR_BATCH_LENGTH_EXCEEDED (our batch was over 50) sends the
 *   row again in a smaller batch.
 * - A batch too large or too slow (413, an HTML 5xx page, 504, a timeout): its rows' next attempt goes in half
 *   the batch (down to 1), under the ambiguity rules below.
 * - Ambiguous failures (5xx, reset, timeout: the write may have been applied): rows that only set values are
 *   sent again (up to 4 times, with backoff); rows that append multifield entries (no ID) are re-planned
 *   first when the planner reads the lead (diff), and with the blind planner reported failed AMBIGUOUS_WRITE.
 * - `attempts` = sends of the row the portal may have acted on (refusals by a limit are not counted).
 * - Rows that cannot start before `deadline` → skipped DEFERRED; once one is deferred no new batch starts.
 * - Hooks (send/hooks.ts): the engine hears of each request before it goes out and of each final outcome, and
 *   names rows an earlier attempt sent without a recorded answer (`maybeApplied`): diff → a re-read that finds
 *   nothing to write is `updated`; blind → an append is failed AMBIGUOUS_WRITE rather than sent again.
 *
 * Run-level stop (OVERLOAD_LIMIT, bad credentials…): no new batch starts, batches in flight finish, and
 * send REJECTS with SendHaltedError — a RunHaltedError (code, message) that also carries `outcomes`, one per
 * row: what finished keeps its outcome, everything else is `skipped` with the halt's code. An engine that
 * only knows RunHaltedError still stops correctly; one that reads `outcomes` reports the finished rows exactly.
 *
 * The steps live in send/: routing first plans (admit), window state (window), choosing the next batch
 * (nextBatch), the scheduler (drive), one batch's request (runBatch) and answer (settleAnswer), failed or
 * ambiguous calls (failure), re-planning rows after a same-lead row failed (replan).
 */

export { blindPlanner } from './send/blindPlanner.ts';
export type { SendHooks } from './send/hooks.ts';
export { appendsMultifield } from './send/item.ts';
export { rowCode } from './send/outcomes.ts';

export interface SenderDeps {
  api: PortalClient;
  planner?: WritePlanner;
  options: RunOptions;
  /** Local clock (default Date.now). */
  now?: () => number;
  random?: () => number;
}

/** The engine's own LeadSender: its pacer state can always be saved and resumed (the journal's hooks come through LeadSender.send). */
export interface JournaledSender extends LeadSender {
  pacerState(): ThrottleSnapshot;
  resumePacer(state: unknown): void;
}

export function createSender(deps: SenderDeps): JournaledSender {
  return new Sender(deps);
}

class Sender implements JournaledSender {
  private readonly ctx: SendContext;

  constructor(deps: SenderDeps) {
    const planner = deps.planner ?? blindPlanner();
    this.ctx = {
      api: deps.api,
      planner,
      options: deps.options,
      now: deps.now ?? Date.now,
      random: deps.random ?? Math.random,
      blind: planner instanceof BlindPlanner,
      outage: new OutageClock(),
    };
  }

  stats(): SendStats {
    return this.ctx.api.stats();
  }

  /** The throttle's snapshot (ThrottleSnapshot): what this chunk spent when, for the next one. */
  pacerState(): ThrottleSnapshot {
    return this.ctx.api.throttle.snapshot();
  }

  resumePacer(state: unknown): void {
    if (state && typeof state === 'object') this.ctx.api.throttle.restore(state as ThrottleSnapshot);
  }

  /** `hooks`: the engine's journal (what was sent and settled) and what an earlier attempt may have applied. */
  async send(rows: ValidRow[], deadline: number, hooks: SendHooks = {}): Promise<RowOutcome[]> {
    if (rows.length === 0) return [];
    const ctx = this.ctx;
    let planned: PlannedWrite[];
    try {
      planned = await ctx.planner.plan(rows, deadline);
      if (!ctx.blind) ctx.outage.answered();
    } catch (e) {
      if (e instanceof DeferredError) return rows.map((r) => outcome(r, 'skipped', DEFERRED, 'not started before the chunk deadline', 0));
      if (!isOutageFailure(e)) throw e;
      // The leads could not be read (after the client's retries): nothing was sent; the rows wait for the portal.
      ctx.outage.failed(ctx.now());
      const message = ctx.api.redact(e.message);
      hooks.unreachable?.(e.code, message, ctx.outage.failingSince!);
      return rows.map((r) => outcome(r, 'skipped', DEFERRED, `the portal is unreachable: ${message}`, 0));
    }
    const w = new SendWindow(rows.length, deadline, hooks);
    admit(ctx, w, rows, planned);
    await drive(w, {
      concurrency: ctx.options.limits.concurrency,
      now: ctx.now,
      room: () => ctx.api.throttle.fit(['batch', WRITE_METHOD], MAX_BATCH),
      reserve: (items) => ctx.api.throttle.reserve(writeBilling(items)),
      send: (items, hold) => runBatch(ctx, w, items, hold),
      replan: (items) => replanStale(ctx, w, items),
    });
    return w.finish(rows);
  }
}
