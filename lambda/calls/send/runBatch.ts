import type { RunOptions } from '../../config.ts';
import { command, type QueryValue } from '../encode.ts';
import { batchBilling } from '../http/batchBody.ts';
import type { SendContext } from './context.ts';
import { settleFailure } from './failure.ts';
import type { SendItem } from './item.ts';
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

/**
 * Sends one batch (halt=0) and settles each of its rows (final outcome, or back to `pending`). The client
 * retries a transient failure only when no row appends (replaying an append duplicates entries).
 */
export async function runBatch(ctx: SendContext, w: SendWindow, items: SendItem[]): Promise<void> {
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
  await settleAnswer(ctx, w, byKey, body);
}
