import type { PlannedWrite, ValidRow } from '../../types.ts';
import type { SendContext } from './context.ts';
import { appendsMultifield, type SendItem, sendItem } from './item.ts';
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
    const maybe = w.hooks.maybeApplied?.has(row.line) === true;
    if (p.outcome) w.decide(index, row, { ...p.outcome, line: row.line, ...(maybe ? { attempts: 1 } : {}) });
    else if (ctx.options.dryRun) w.decide(index, row, outcome(row, 'valid', '', row.warnings.join('; '), 0, p.changes));
    else if (!fields && !earlier)
      w.decide(index, row, outcome(row, maybe ? 'updated' : 'unchanged', '', row.warnings.join('; '), maybe ? 1 : 0));
    else if (maybe && ctx.blind && appendsMultifield(fields!)) w.decide(index, row, ambiguousEarlier(row, p.changes));
    else {
      const it = sendItem(index, row, fields, p.changes);
      if (p.log) it.log = p.log;
      if (maybe) it.attempts = 1;
      if (earlier) it.after = [...earlier];
      w.pending.push(it);
      if (!ctx.blind) byLead.set(row.id, [...(earlier ?? []), it]);
    }
  });
}

/**
 * An earlier attempt of this chunk sent the row and died before recording the answer: replaying an append
 * without reading the lead could duplicate its entries, so it is reported, as an ambiguous send is.
 */
function ambiguousEarlier(row: ValidRow, changes: string[]): ReturnType<typeof outcome> {
  const why =
    'an earlier attempt sent this update and stopped before its answer was recorded: it may have been applied; re-run (diff mode re-reads first)';
  return outcome(row, 'failed', 'AMBIGUOUS_WRITE', why, 1, changes);
}
