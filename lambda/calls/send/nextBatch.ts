import { rowOutcome } from '../../report/outcome.ts';
import { MAX_BATCH, type SendItem } from './item.ts';
import type { SendWindow } from './window.ts';

/**
 * Takes the next batch off the window's `pending`: rows in file order, one per lead, none whose lead is in
 * flight, none backing off. A row planned after earlier rows of its lead is decided only once they are final:
 * as planned when they all applied (a row with nothing to write is then `unchanged`), else it goes to `stale`
 * to be planned again. Rows settled here are decided in the same pass, so a later row of the lead sees them.
 * At most `room` rows go (what the portal's budgets fit).
 */
export function nextBatch(
  w: SendWindow,
  inflightIds: ReadonlySet<number>,
  now: number,
  room = MAX_BATCH,
): { batch: SendItem[]; stale: SendItem[] } {
  const blocked = new Set(inflightIds);
  const batch: SendItem[] = [];
  const stale: SendItem[] = [];
  const taken = new Set<SendItem>();
  // `room`: what the portal's budgets fit (at least one row goes).
  let cap = Math.max(1, Math.min(MAX_BATCH, room));
  for (const it of w.pending) {
    if (blocked.has(it.row.id)) continue;
    if (it.after) {
      // No earlier row of this lead is pending or in flight here (it would have blocked the lead): all are final.
      const applied = it.after.every((e) => ['updated', 'unchanged'].includes(w.outcomes[e.index]?.status ?? ''));
      if (!applied) {
        blocked.add(it.row.id);
        stale.push(it);
        taken.add(it);
        continue;
      }
      it.after = undefined;
      if (!it.fields) {
        w.settle(it, rowOutcome(it.row, 'unchanged'));
        taken.add(it);
        continue;
      }
    }
    blocked.add(it.row.id);
    if (it.notBefore > now || batch.length >= it.cap || batch.length >= cap) continue;
    // A row the batch would rewrite ($result…) goes alone, as a direct call; it does not join a batch.
    if (it.direct && batch.length > 0) continue;
    batch.push(it);
    taken.add(it);
    cap = Math.min(cap, it.cap);
    if (it.direct || batch.length >= cap) break;
  }
  w.pending = w.pending.filter((it) => !taken.has(it));
  return { batch, stale };
}
