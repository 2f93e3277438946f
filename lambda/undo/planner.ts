import { readLeads } from '../calls/planning/diff.ts';
import { changeEntries, parseEntryField } from '../report/changeLog.ts';
import { rowOutcome } from '../report/outcome.ts';
import type { Catalogue, PlannedWrite, PortalApi, ValidRow, WritePlanner } from '../types.ts';
import { type Conflict, planRevert } from './revert.ts';

/** A field someone changed since the run: left as it is, and the row says so. */
export const CONFLICT = 'CONFLICT';

/**
 * The planner of an undo run: reads the leads (one request per 2,500, as the diff does) and plans, per lead,
 * what to put back (revert.ts). A row whose fields all changed since is `skipped CONFLICT`; one with some
 * conflicts is written for the rest and carries CONFLICT with the fields named. Each write has its own change
 * log, so an undo can be undone. Re-plans after an ambiguous write read the lead again, as any run's do.
 */
export function revertPlanner(api: PortalApi, catalogue: Catalogue, phoneCountry?: string, now: () => number = Date.now): WritePlanner {
  return {
    async plan(rows: ValidRow[], deadline: number): Promise<PlannedWrite[]> {
      const { leads, failures } = await readLeads(api, rows.map(withReadFields), deadline, now);
      return rows.map((row) => {
        const failure = failures.get(row.id);
        if (failure) return decided(row, failure.status, failure.errorCode, failure.message);
        const lead = leads.get(row.id);
        if (!lead) return decided(row, 'failed', 'NOT_FOUND', 'Not found');
        const { fields, conflicts } = planRevert(row.revert ?? [], lead, catalogue, phoneCountry);
        const said = conflicts.length > 0 ? conflictText(row.line, conflicts) : undefined;
        if (!fields) return said ? decided(row, 'skipped', CONFLICT, said) : { row, fields: null, changes: [] };
        if (said && row.code !== CONFLICT) {
          row.code = CONFLICT;
          row.warnings = [...row.warnings, said];
        }
        return { row, fields, changes: Object.keys(fields), log: changeEntries(row.line, row.id, lead, fields, catalogue) };
      });
    },
  };
}

/** The row as the diff's reader sees it: the fields its entries name, so the read selects them. */
function withReadFields(row: ValidRow): ValidRow {
  const fields: ValidRow['fields'] = {};
  for (const e of row.revert ?? []) fields[parseEntryField(e.field)?.type ?? e.field] = '';
  return { ...row, fields };
}

function decided(row: ValidRow, status: 'failed' | 'skipped', errorCode: string, message: string): PlannedWrite {
  return { row, fields: null, changes: [], outcome: rowOutcome(row, status, { errorCode, message }) };
}

/** `line 4: changed since the run, left as it is: TITLE (now "Boss's title"), EMAIL:HOME#21 (now HOME:boss@x.com)` */
function conflictText(line: number, conflicts: readonly Conflict[]): string {
  const list = conflicts.map((c) => `${c.field} (now ${JSON.stringify(c.current)})`).join(', ');
  return `line ${line}: changed since the run, left as it is: ${list}`;
}
