import { rowOutcome } from '../report/outcome.ts';
import { DEFERRED, type RowCheck, type RowOutcome, type SourceRecord, type ValidRow } from '../types.ts';

/** Dry-run windows only pace the writes; sender windows match one diff read (50 list commands × 50 IDs). */
export const DRY_WINDOW = 250;
export const SENDER_WINDOW = 2500;
/** A window is also closed at this many source bytes, so big rows (up to the record limit each) keep memory bounded. */
const WINDOW_BYTES = 8 * 1024 * 1024;

/** One record on its way through the chunk: its place in the input and what became of it. */
export interface Item {
  line: number;
  start: number;
  end: number;
  raw: string;
  /** Set for rows that failed validation (or were skipped without sending). */
  outcome?: RowOutcome;
  row?: ValidRow;
}

/** Records read and validated together; their valid rows go to the sender as one `send`. */
export interface Window {
  items: Item[];
  rows: ValidRow[];
  /** Source bytes of the items (their raw text is held until the window is written). */
  bytes: number;
  /** Outcomes of `rows`, in order; undefined when nothing was sent. */
  sent?: Promise<RowOutcome[]>;
}

export type Halt = { code: string; message: string };

export function emptyWindow(): Window {
  return { items: [], rows: [], bytes: 0 };
}

/** Adds a validated record; a valid row is only queued for the sender when the run has not halted. */
export function addRecord(w: Window, rec: SourceRecord, r: RowCheck, halted: Halt | undefined): void {
  const item: Item = { line: rec.line, start: rec.start, end: rec.end, raw: rec.raw };
  if (!r.ok) item.outcome = r.outcome;
  else if (halted) {
    item.row = r.row;
    item.outcome = skippedOutcome(r.row, halted);
  } else {
    item.row = r.row;
    w.rows.push(r.row);
  }
  w.items.push(item);
  w.bytes += rec.end - rec.start;
}

/** Whether the window should go now: enough rows for one send, or enough records or bytes held in memory. */
export function windowFull(w: Window, windowRows: number): boolean {
  return w.rows.length >= windowRows || w.items.length >= windowRows * 4 || w.bytes >= WINDOW_BYTES;
}

/** The run halted while this window was filling: its rows are not sent. */
export function skipUnsent(w: Window, halted: Halt): void {
  for (const item of w.items) if (item.row && !item.outcome) item.outcome = skippedOutcome(item.row, halted);
  w.rows = [];
}

export function validOutcome(row: ValidRow): RowOutcome {
  return rowOutcome(row, 'valid');
}

export function skippedOutcome(row: ValidRow, halted: Halt): RowOutcome {
  return rowOutcome(row, 'skipped', { errorCode: halted.code, message: halted.message });
}

/** A valid row's warnings belong in its report line whatever the portal said. */
export function withWarnings(o: RowOutcome, row: ValidRow): RowOutcome {
  if (row.warnings.length === 0 || o.errorCode === DEFERRED) return o;
  const missing = row.warnings.filter((w) => !o.message.includes(w));
  if (missing.length === 0) return o;
  return { ...o, message: [o.message, ...missing].filter(Boolean).join('; ') };
}
