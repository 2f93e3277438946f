import { TransientError } from '../../errors.ts';
import type { PlannedWrite } from '../../types.ts';
import type { SendContext } from './context.ts';
import { settleFailure } from './failure.ts';
import { replanned, type SendItem } from './item.ts';
import { outcome } from './outcomes.ts';
import type { SendWindow } from './window.ts';

/** Rows whose earlier same-lead row did not apply: plan them again from a fresh read of their leads. */
export async function replanStale(ctx: SendContext, w: SendWindow, items: SendItem[]): Promise<void> {
  let plans: PlannedWrite[];
  try {
    plans = await ctx.planner.plan(
      items.map((it) => it.row),
      w.deadline,
    );
  } catch (e) {
    if (e instanceof TransientError) {
      const message = ctx.api.redact(`reading the lead again failed: ${e.message}`);
      for (const it of items) w.settle(it, outcome(it.row, 'failed', e.code, message, it.attempts));
      return;
    }
    await settleFailure(ctx, w, items, e);
    return;
  }
  items.forEach((it, i) => {
    const p = plans[i];
    it.after = undefined;
    if (p.outcome) w.settle(it, { ...p.outcome, line: it.row.line, attempts: it.attempts });
    else if (!p.fields || Object.keys(p.fields).length === 0)
      w.settle(it, outcome(it.row, 'unchanged', '', it.row.warnings.join('; '), it.attempts));
    else {
      replanned(it, p.fields);
      it.changes = p.changes;
      w.requeue(it);
    }
  });
}
