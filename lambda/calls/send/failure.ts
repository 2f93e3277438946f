import { DeferredError, PortalError, RunHaltedError, TransientError } from '../../errors.ts';
import { DEFERRED, type PlannedWrite } from '../../types.ts';
import { backoffDelay } from '../backoff.ts';
import { isOversize } from '../http/verdict.ts';
import type { SendContext } from './context.ts';
import { replanned, type SendItem } from './item.ts';
import { isOutageFailure } from './outage.ts';
import { outcome, rowCode, updated } from './outcomes.ts';
import type { SendWindow } from './window.ts';

/** Ambiguous failures of one row before it is reported failed. */
const MAX_TRANSIENT = 4;

/** A whole call for `items` failed (the batch, or a re-read of their leads): settle or requeue each by the error's class. */
export async function settleFailure(ctx: SendContext, w: SendWindow, items: SendItem[], e: unknown): Promise<void> {
  if (e instanceof RunHaltedError) {
    w.halt(e);
    for (const it of items) w.settle(it, outcome(it.row, 'skipped', e.code, e.message, it.attempts, it.changes));
    return;
  }
  if (e instanceof DeferredError) {
    w.stop();
    for (const it of items)
      w.settle(it, outcome(it.row, 'skipped', DEFERRED, 'not started before the chunk deadline (portal limits)', it.attempts));
    return;
  }
  if (isOutageFailure(e) && ctx.outage.failed(ctx.now())) {
    // Down for a while, not a blip: the rows wait (the engine retries in a later chunk, reading them as maybe sent).
    w.unreachable(e.code, ctx.api.redact(e.message), ctx.outage.failingSince!);
    return;
  }
  if (e instanceof TransientError) {
    // Too large or too slow for one request: the next attempt of these rows goes in half the batch (down to 1).
    if (isOversize(e.code)) shrink(items, items.length);
    await settleAmbiguous(ctx, w, items, e.code, e.message);
    return;
  }
  if (e instanceof PortalError) {
    settleRefused(ctx, w, items, e);
    return;
  }
  const msg = ctx.api.redact(e instanceof Error ? e.message : String(e));
  w.halt(new RunHaltedError('SENDER_ERROR', `unexpected error while sending to ${ctx.api.host}: ${msg}`));
  for (const it of items) w.settle(it, outcome(it.row, 'skipped', 'SENDER_ERROR', msg, it.attempts, it.changes));
}

/** The portal refused the call: each row fails with the portal's code. */
function settleRefused(ctx: SendContext, w: SendWindow, items: SendItem[], e: PortalError): void {
  const description = ctx.api.redact(e.description);
  for (const it of items) w.settle(it, outcome(it.row, 'failed', rowCode(e.code, description), description, it.attempts, it.changes));
}

/** The rows' next batch holds at most half of `size` (at least 1). */
export function shrink(items: SendItem[], size: number): void {
  const half = Math.max(1, Math.ceil(size / 2));
  for (const it of items) it.cap = Math.min(it.cap, half);
}

/** The write may have been applied. Sets go again; appends are re-planned (diff) or reported (blind). */
export async function settleAmbiguous(ctx: SendContext, w: SendWindow, items: SendItem[], code: string, message: string): Promise<void> {
  const replan: SendItem[] = [];
  for (const it of items) if (!retryOrReport(ctx, w, it, code, message)) replan.push(it);
  if (!replan.length) return;
  if (code === 'TIMEOUT' && !(await letTimedOutWriteSettle(ctx, w, replan))) return;
  let plans: PlannedWrite[];
  try {
    plans = await ctx.planner.plan(
      replan.map((it) => it.row),
      w.deadline,
    );
  } catch (e) {
    await settleFailure(ctx, w, replan, e);
    return;
  }
  replan.forEach((it, i) => {
    const p = plans[i];
    if (p.outcome) w.settle(it, { ...p.outcome, attempts: it.attempts });
    else if (!p.fields || Object.keys(p.fields).length === 0) {
      // The lead already holds what the row asked for: the ambiguous send was applied.
      w.settle(it, updated(it));
    } else {
      replanned(it, p.fields);
      it.notBefore = ctx.now() + backoffDelay(it.transient, ctx.random());
      w.requeue(it);
    }
  });
}

/** Settles or requeues one ambiguous row; false when it must be planned again first (an append, diff planner). */
function retryOrReport(ctx: SendContext, w: SendWindow, it: SendItem, code: string, message: string): boolean {
  it.transient += 1;
  // While the portal fails as a whole (no answer since), a row is not given up: the outage rule decides.
  if (it.transient > MAX_TRANSIENT && ctx.outage.failingSince === undefined) {
    w.settle(it, outcome(it.row, 'failed', code, `${message} (gave up after ${it.attempts} sends)`, it.attempts, it.changes));
  } else if (!it.appends) {
    it.notBefore = ctx.now() + backoffDelay(it.transient, ctx.random());
    w.requeue(it);
  } else if (ctx.blind) {
    const why = `${code}: the update may have been applied; re-run (diff mode re-reads first)`;
    w.settle(it, outcome(it.row, 'failed', 'AMBIGUOUS_WRITE', why, it.attempts, it.changes));
  } else return false;
  return true;
}

/**
 * A timed-out write may still be running on the portal and land after an immediate re-read, which would
 * then plan the same entries again (duplicates). Wait as long again as the timeout before reading; past
 * the deadline the rows are deferred (false), and the next chunk re-reads them much later.
 */
async function letTimedOutWriteSettle(ctx: SendContext, w: SendWindow, items: SendItem[]): Promise<boolean> {
  const settle = ctx.api.timeoutMs;
  if (ctx.now() + settle > w.deadline) {
    w.stop();
    for (const it of items)
      w.settle(it, outcome(it.row, 'skipped', DEFERRED, 'a timed-out write must settle before the lead is read again', it.attempts));
    return false;
  }
  await ctx.api.sleep(settle);
  return true;
}
