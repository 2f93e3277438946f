import type { SendHooks } from '../calls/send/hooks.ts';
import type { LeadSender, RowOutcome, ValidRow } from '../types.ts';
import type { KeyTable } from './keyTable.ts';

/**
 * The sender as a `--match` chunk hands it its windows: a key resolves once per run (keyTable.ts says why).
 * Before a window goes to the sender, its rows whose key the run already resolved take that answer
 * (`key.found`: the matching planner decides them from it, without a look-up); after, the window's own answers
 * join the table. Rows an earlier attempt of the chunk sent carry the lead they were sent to (journal.ts sets
 * `row.id`), and that lead is the answer for their key first, before any other row of the window is decided.
 * The pipeline hands over one window at a time, each after the previous one came back (pipeline.ts), so every
 * window sees the answers of all windows before it.
 */
export function keyedSender(inner: LeadSender, table: KeyTable): LeadSender {
  return {
    stats: () => inner.stats(),
    async send(rows: ValidRow[], deadline: number, hooks?: SendHooks): Promise<RowOutcome[]> {
      learn(table, rows);
      for (const row of rows) {
        if (!row.key || row.id !== 0 || row.key.found !== undefined) continue;
        const known = table.get(row.key.key);
        if (known) row.key.found = known;
      }
      try {
        return await inner.send(rows, deadline, hooks);
      } finally {
        learn(table, rows); // a halted send keeps the answers it got too
      }
    },
  };
}

/** Keeps each keyed row's answer: the lead it goes to, or what the planner found (none, several). */
function learn(table: KeyTable, rows: readonly ValidRow[]): void {
  for (const row of rows) {
    if (!row.key) continue;
    const leads = row.id > 0 ? [row.id] : row.key.found;
    if (leads) table.set(row.key.key, leads);
  }
}
