import { rowOutcome } from '../../report/outcome.ts';
import type { PlannedWrite, PortalApi, ValidRow, WritePlanner } from '../../types.ts';
import type { MatchSpec } from './keys.ts';
import { decide } from './outcome.ts';
import { selectFor } from '../planning/diff.ts';
import { resolveKeys } from './resolve.ts';

/**
 * `--match`: rows without an ID find their lead before they are planned. Wraps the run's planner (diff or blind),
 * so every row the inner planner sees has an ID, and the diff, the idempotent multifields and the re-plans after
 * an ambiguous write hold for matched rows exactly as for rows with an ID. Resolution is in bulk, per window: the
 * window's distinct keys in as few requests as resolveKeys needs (1,000 e-mails or phones, 50 custom-field keys
 * per request).
 *
 * A matched row takes its lead's ID for good (`row.id` is set): a re-plan of the same row after an ambiguous write
 * goes to the same lead, never to one that gained the key since. Rows that match no lead, or several, end failed
 * NO_MATCH / AMBIGUOUS_MATCH without a write.
 *
 * Within a run a key resolves once: the planner leaves its answer on the row (`key.found`), the engine keeps it
 * in the run's key table (lambda/run/keyTable.ts) and gives it to later rows with that key, which are then
 * decided from it without a look-up (the same lead, or the same NO_MATCH / AMBIGUOUS_MATCH).
 */
export function matchingPlanner(inner: WritePlanner, api: PortalApi, match: MatchSpec, now: () => number = Date.now): WritePlanner {
  return {
    async plan(rows: ValidRow[], deadline: number): Promise<PlannedWrite[]> {
      const unmatched = rows.filter((r) => r.key !== undefined && r.id === 0);
      if (unmatched.length === 0) return inner.plan(rows, deadline);
      // Keys the run already resolved (key.found, from the run's key table) are not looked up again.
      const keys = unmatched.filter((r) => r.key!.found === undefined).map((r) => r.key!);
      // The candidates are read with the diff's fields: the diff then plans from that read instead of its own.
      const resolved = keys.length > 0 ? await resolveKeys(api, match, keys, { deadline, now, select: selectFor(rows) }) : undefined;
      const decided = new Map<ValidRow, PlannedWrite>();
      for (const row of unmatched) {
        const key = row.key!;
        const r = key.found ? { ids: [...key.found] } : resolved?.keys.get(key.key);
        // An answer (not a failed or deferred look-up) is the key's for the run: the engine keeps it.
        if (r && !r.failure) key.found = r.ids;
        const d = decide(match, key, r);
        if (d.matched) row.id = d.id;
        else
          decided.set(row, {
            row,
            fields: null,
            changes: [],
            outcome: rowOutcome(row, d.status, { errorCode: d.errorCode, message: d.message }),
          });
      }
      const ready = rows.filter((r) => !decided.has(r));
      const planned = ready.length > 0 ? await inner.plan(ready, deadline, resolved?.leads) : [];
      // The inner planner answers in the order it was given.
      let next = 0;
      return rows.map((r) => decided.get(r) ?? planned[next++]);
    },
  };
}
