import type { RunOptions } from '../../config.ts';
import { DEFERRED } from '../../types.ts';
import { command, jsonParams, type QueryValue } from '../encode.ts';
import { batchBilling } from '../http/batchBody.ts';
import type { Billing, Reservation } from '../limits/throttle.ts';
import type { SendContext } from './context.ts';
import { settleFailure } from './failure.ts';
import { type SendItem, WRITE_METHOD } from './item.ts';
import { outcome, updated } from './outcomes.ts';
import { settleAnswer } from './settleAnswer.ts';
import type { SendWindow } from './window.ts';

/** The batch's crm.lead.update commands, keyed `r<line>` so each result or error maps back to its row. */
export function batchCommands(
  items: SendItem[],
  sonet: RunOptions['sonet'],
): { cmd: Record<string, string>; byKey: Map<string, SendItem> } {
  const cmd: Record<string, string> = {};
  const byKey = new Map<string, SendItem>();
  for (const it of items) {
    const key = `r${it.row.line}`;
    byKey.set(key, it);
    cmd[key] = command('crm.lead.update', {
      id: it.row.id,
      fields: (it.fields ?? {}) as unknown as QueryValue,
      params: { REGISTER_SONET_EVENT: sonet },
    });
  }
  return { cmd, byKey };
}

/** What a write request bills: a direct update, or a batch of updates (the batch envelope and its commands). */
export function writeBilling(items: SendItem[]): Billing {
  if (items.length === 1 && items[0].direct) return [{ method: WRITE_METHOD, units: 1 }];
  return [
    { method: 'batch', units: items.length },
    { method: WRITE_METHOD, units: items.length },
  ];
}

/**
 * Sends one batch (halt=0) and settles each of its rows (final outcome, or back to `pending`). The client
 * retries a transient failure only when no row appends (replaying an append duplicates entries). `hold`: the
 * batch's place in the budgets, reserved when it was sized (released here if it never goes).
 */
export async function runBatch(ctx: SendContext, w: SendWindow, items: SendItem[], hold?: Reservation): Promise<void> {
  try {
    await sendWrites(ctx, w, items, hold);
  } finally {
    ctx.api.throttle.release(hold);
  }
}

async function sendWrites(ctx: SendContext, w: SendWindow, items: SendItem[], hold?: Reservation): Promise<void> {
  if (!(await recordSending(w, items))) return;
  if (items.length === 1 && items[0].direct) return runDirect(ctx, w, items[0], hold);
  const { cmd, byKey } = batchCommands(items, ctx.options.sonet);
  let body: unknown;
  try {
    ctx.api.countCommands('writes', items.length);
    body = await ctx.api.post(
      'batch',
      { halt: 0, cmd },
      {
        deadline: w.deadline,
        billing: batchBilling(cmd),
        reservation: hold,
        idempotent: !items.some((it) => it.appends),
        onSend: () => {
          for (const it of items) it.attempts += 1;
        },
      },
    );
  } catch (e) {
    await settleFailure(ctx, w, items, e);
    return;
  }
  ctx.outage.answered();
  await settleAnswer(ctx, w, byKey, body);
}

/**
 * Tells the engine the rows are about to go (it records that durably first, so a chunk that dies before their
 * answer is recorded knows they may have been applied). If it cannot, nothing is sent: the window stops and
 * the rows are deferred (the chunk then fails on the same error and is run again).
 */
async function recordSending(w: SendWindow, items: SendItem[]): Promise<boolean> {
  if (!w.hooks.sending) return true;
  try {
    await w.hooks.sending(items.map((it) => it.row));
    return true;
  } catch {
    w.stop();
    for (const it of items) w.settle(it, outcome(it.row, 'skipped', DEFERRED, 'the send could not be recorded first', it.attempts));
    return false;
  }
}

/**
 * Sends one row as a direct crm.lead.update (JSON body), for values `batch` would substitute. Paced and
 * billed like any call; the answer and the failures are settled as a batch command's would be.
 */
async function runDirect(ctx: SendContext, w: SendWindow, it: SendItem, hold?: Reservation): Promise<void> {
  try {
    ctx.api.countCommands('writes', 1);
    await ctx.api.post(
      'crm.lead.update',
      {
        id: it.row.id,
        fields: jsonParams((it.fields ?? {}) as unknown as QueryValue),
        params: { REGISTER_SONET_EVENT: ctx.options.sonet },
      },
      {
        deadline: w.deadline,
        billing: [{ method: WRITE_METHOD, units: 1 }],
        reservation: hold,
        idempotent: !it.appends,
        onSend: () => {
          it.attempts += 1;
        },
      },
    );
  } catch (e) {
    await settleFailure(ctx, w, [it], e);
    return;
  }
  ctx.outage.answered();
  w.settle(it, updated(it));
}
