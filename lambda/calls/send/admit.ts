import type { PlannedWrite, ValidRow } from '../../types.ts';
import type { SendContext } from './context.ts';
import { type SendItem, sendItem } from './item.ts';
import { outcome } from './outcomes.ts';
import type { SendWindow } from './window.ts';

/**
 * Routes each row's first plan: decided at once (the plan's own outcome, a dry run, nothing to write), or
 * pending a send. With a reading planner a later row of the same lead is chained `after` the earlier ones,
 * since it was planned against the state they leave.
 */
export function admit(ctx: SendContext, w: SendWindow, rows: ValidRow[], planned: PlannedWrite[]): void {
  const byLead = new Map<number, SendItem[]>();
  planned.forEach((p, index) => {
    const row = rows[index];
    const fields = p.fields && Object.keys(p.fields).length > 0 ? p.fields : null;
    const earlier = ctx.blind ? undefined : byLead.get(row.id);
    if (p.outcome) w.outcomes[index] = { ...p.outcome, line: row.line, id: String(row.id) };
    else if (ctx.options.dryRun) w.outcomes[index] = outcome(row, 'valid', '', row.warnings.join('; '), 0, p.changes);
    else if (!fields && !earlier) w.outcomes[index] = outcome(row, 'unchanged', '', row.warnings.join('; '), 0);
    else {
      const it = sendItem(index, row, fields, p.changes);
      if (earlier) it.after = [...earlier];
      w.pending.push(it);
      if (!ctx.blind) byLead.set(row.id, [...(earlier ?? []), it]);
    }
  });
}
