import type { PortalErrorBody } from '../../types.ts';
import { resultTimes, unwrapBatch } from '../http/batchBody.ts';
import { commandKind, haltMessage } from '../http/verdict.ts';
import type { PortalTime } from '../limits/throttle.ts';
import { RunHaltedError } from '../../errors.ts';
import type { SendContext } from './context.ts';
import { settleAmbiguous, shrink } from './failure.ts';
import { type SendItem, WRITE_METHOD } from './item.ts';
import { outcome, rowCode, updated } from './outcomes.ts';
import type { SendWindow } from './window.ts';

/** Times a command may be left out of the batch answer (it did not run) before its row fails NOT_RUN. */
const MAX_NOT_RUN = 5;

/**
 * Settles each row of an accepted (HTTP 200) batch answer: a result is applied, an error is the command's
 * (the answer hides failures, so `result_error` is always walked), a key in neither map did not run and goes again.
 */
export async function settleAnswer(ctx: SendContext, w: SendWindow, byKey: Map<string, SendItem>, body: unknown): Promise<void> {
  const { result, errors } = unwrapBatch(body);
  const times = (resultTimes(body) ?? {}) as Record<string, PortalTime>;
  const ambiguous = new Map<string, SendItem[]>();
  for (const [key, it] of byKey) {
    const err = errors[key];
    if (err) {
      if (settleCommandError(ctx, w, it, err, times[key], byKey.size) === 'ambiguous') {
        const code = String(err.error ?? '') || 'INTERNAL_SERVER_ERROR';
        ambiguous.set(code, [...(ambiguous.get(code) ?? []), it]);
      }
    } else if (key in result) {
      w.settle(it, updated(it));
    } else if (++it.notRun > MAX_NOT_RUN) {
      const message = 'the portal did not run the command (missing from the batch answer)';
      w.settle(it, outcome(it.row, 'failed', 'NOT_RUN', message, it.attempts, it.changes));
    } else {
      w.requeue(it);
    }
  }
  for (const [code, items] of ambiguous)
    await settleAmbiguous(ctx, w, items, code, `the portal failed while running the command (${code})`);
}

/** One command's error inside a 200 answer; 'ambiguous' when the write may have been applied. */
function settleCommandError(
  ctx: SendContext,
  w: SendWindow,
  it: SendItem,
  err: PortalErrorBody,
  time: PortalTime | undefined,
  size: number,
): 'done' | 'ambiguous' {
  const code = String(err.error ?? '');
  const description = ctx.api.redact(String(err.error_description ?? ''));
  const kind = commandKind(err);
  if (kind === 'rate' || kind === 'operating') {
    // Refused before running: not a send the portal acted on. The block is on the command's method only,
    // never on `batch` (under nested billing the envelope's reset is start + 600 and says nothing about the
    // method); a refused command has no result_time, so the method's reset comes from its own budget.
    it.attempts = Math.max(0, it.attempts - 1);
    ctx.api.limitRefused(kind, [WRITE_METHOD], time);
    w.requeue(it);
    return 'done';
  }
  if (code === 'ERROR_BATCH_LENGTH_EXCEEDED') {
    // Our batch had more than 50 commands (a bug): this one did not run; it goes again in a smaller batch.
    it.attempts = Math.max(0, it.attempts - 1);
    if (++it.notRun <= MAX_NOT_RUN) {
      shrink([it], size);
      w.requeue(it);
      return 'done';
    }
  }
  if (kind === 'halt') {
    ctx.api.countLimit(code);
    w.halt(new RunHaltedError(code, haltMessage(code, description, ctx.api.host)));
    w.settle(it, outcome(it.row, 'skipped', code, description, it.attempts, it.changes));
    return 'done';
  }
  if (kind === 'transient') return 'ambiguous';
  w.settle(it, outcome(it.row, 'failed', rowCode(code, description), description, it.attempts, it.changes));
  return 'done';
}
