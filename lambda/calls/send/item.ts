import type { ChangeEntry } from '../../report/changeLog.ts';
import type { LeadFields, ValidRow } from '../../types.ts';

/** Most commands in one `batch` call (the portal's cap). */
export const MAX_BATCH = 50;

/** The method of every write command. */
export const WRITE_METHOD = 'crm.lead.update';

const MULTIFIELDS = new Set(['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK']);

/** One row on its way to the portal: what it writes, and how its sends went so far. */
export interface SendItem {
  /** Position in the `send` call's rows (and its outcomes). */
  index: number;
  row: ValidRow;
  /** null: the plan found nothing to write, on the assumption that `after` all apply (held until they are final). */
  fields: LeadFields | null;
  changes: string[];
  /** The first plan's change log (read before anything was sent): what the write changes, for the run's log. */
  log?: ChangeEntry[];
  /** Appends multifield entries: replaying it would duplicate them, so it is never blindly re-sent. */
  appends: boolean;
  /** A value the batch would substitute ($result…): the row goes alone, as a direct call (see hasBatchReference). */
  direct: boolean;
  /** Sends the portal may have acted on. */
  attempts: number;
  /** Ambiguous failures so far. */
  transient: number;
  /** Times the portal's answer left this command out. */
  notRun: number;
  /** Largest batch this row may go in (halved after a batch too large or too slow). */
  cap: number;
  /** Local ms before which it must not be sent again (backoff). */
  notBefore: number;
  /**
   * Earlier rows of this window for the same lead. The diff planner planned this row against the state they
   * leave; if one of them does not end `updated`/`unchanged`, that state never came and this row is planned
   * again (the lead is read afresh) before anything is decided for it.
   */
  after?: SendItem[];
}

/** A fresh item: nothing sent yet. */
export function sendItem(index: number, row: ValidRow, fields: LeadFields | null, changes: string[]): SendItem {
  return {
    index,
    row,
    fields,
    changes,
    appends: !!fields && appendsMultifield(fields),
    direct: !!fields && hasBatchReference(fields),
    attempts: 0,
    transient: 0,
    notRun: 0,
    cap: MAX_BATCH,
    notBefore: 0,
  };
}

/** Gives an item a new plan's fields (after a re-read of its lead). */
export function replanned(it: SendItem, fields: LeadFields): void {
  it.fields = fields;
  it.appends = appendsMultifield(fields);
  it.direct = hasBatchReference(fields);
}

/** What the server takes for a reference to an earlier result inside `batch` (SRV CRestUtil::processBatchElement). */
const BATCH_REFERENCE = /\$(result|next|total|time|error)/i;

/**
 * Does any value of the write (any field, any multifield entry) hold something `batch` would substitute?
 * The server scans every value after URL-decoding, so percent-encoding does not protect it.
 */
export function hasBatchReference(value: unknown): boolean {
  if (typeof value === 'string') return BATCH_REFERENCE.test(value);
  if (Array.isArray(value)) return value.some(hasBatchReference);
  if (value && typeof value === 'object') return Object.values(value).some(hasBatchReference);
  return false;
}

/** Does a write append multifield entries (entries without an ID are added: replaying duplicates them)? */
export function appendsMultifield(fields: LeadFields): boolean {
  for (const [code, v] of Object.entries(fields)) {
    if (!Array.isArray(v)) continue;
    for (const e of v as unknown[]) {
      if (e && typeof e === 'object') {
        const m = e as { ID?: unknown; DELETE?: unknown };
        if ((m.ID === undefined || m.ID === '') && m.DELETE !== 'Y') return true;
      } else if (MULTIFIELDS.has(code)) return true;
    }
  }
  return false;
}
