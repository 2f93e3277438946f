import type { ChangeEntry } from './report/changeLog.ts';
import type { MatchKey } from './calls/matching/keys.ts';
import type { SendHooks } from './calls/send/hooks.ts';
/**
 * The shared vocabulary of the pipeline: source → rows → payloads → calls → report.
 * Every module talks in these types; nothing here does I/O.
 */

/** Final state of one input record, as written to report.csv. */
export type RowStatus = 'updated' | 'unchanged' | 'invalid' | 'failed' | 'skipped' | 'valid';

/** One line of report.csv. Row outcomes are data, never exceptions. */
export interface RowOutcome {
  /** Source line (1-based) where the record starts. */
  line: number;
  /** The ID cell as given (may be invalid text for `invalid` rows). */
  id: string;
  status: RowStatus;
  /** Machine code: ours (INVALID_VALUE, ROW_CELL_COUNT, …) or the portal's (QUERY_LIMIT_EXCEEDED, NOT_FOUND…). */
  errorCode: string;
  /** Human text; for invalid rows "line 42, EMAIL_WORK: "bob@" is not an e-mail address". Warnings too. */
  message: string;
  /** How many times the row was sent to the portal (0 for invalid/unchanged/dry-run). */
  attempts: number;
  /** Dry run / diff: the field codes that would change or changed, `;`-separated. */
  changes?: string;
  /** A written row (diff mode): what it changed, field by field, for the run's change log. */
  log?: ChangeEntry[];
}

/** One CSV record read from the source, before validation. */
export interface SourceRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  cells: string[];
  /** The record's raw text as in the file (decoded), without the trailing line break. */
  raw: string;
  /** Absolute byte offset in the source object where this record starts / just after it ends (incl. line break). */
  start: number;
  end: number;
  /** Set by the reader at the end of the source: the record is part of a report footer after the data (rows/footer.ts). */
  footer?: true;
  /**
   * Set by the reader: the record's bytes read badly in the file's code page and better in `readsAs`; `word` is
   * the first badly read word, as read (source/codePage.ts).
   */
  encodingDoubt?: { readsAs: string; word: string };
}

/** A multifield entry as crm.lead.update takes it. */
export interface MultifieldValue {
  ID?: string;
  VALUE: string;
  VALUE_TYPE?: string;
  DELETE?: 'Y';
}

/** Field code → value, ready for crm.lead.update `fields`. Multifields are arrays of MultifieldValue. */
export type LeadFields = Record<string, string | number | string[] | number[] | MultifieldValue[]>;

/** A row that passed validation. */
export interface ValidRow {
  line: number;
  id: number;
  /** Fields to set. A cleared scalar is ''. */
  fields: LeadFields;
  /** Multifield types (PHONE, EMAIL…) + VALUE_TYPE the row asks to clear entirely (the clear marker). */
  clears: string[];
  /** Non-fatal notes (e.g. partial address), carried to the report's message. */
  warnings: string[];
  raw: string;
  /** `--match`: the row has no ID (`id` is 0 until matched) and its lead is the one that holds this key. */
  key?: MatchKey;
  /** An undo run: the change-log entries to take back on this lead (the revert planner turns them into fields). */
  revert?: ChangeEntry[];
  /** A code the row's outcome carries even when it is written (an undo's CONFLICT on some of its fields). */
  code?: string;
}

/** Result of validating one record. */
export type RowCheck = { ok: true; row: ValidRow } | { ok: false; outcome: RowOutcome };

/** Stats the sending stage reports into summary.json. */
export interface SendStats {
  requests: number;
  retries: number;
  throttledMs: number;
  /** Limit/error answers by code: QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT, … */
  limitErrors: Record<string, number>;
  /** Operating seconds the portal reported as spent by this run (best effort). */
  operatingSeconds?: number;
  /** Write commands sent (crm.lead.update), reads (list/get) sent. */
  writes?: number;
  reads?: number;
}

/**
 * The "calls" stage, as the engine sees it. Implemented by lambda/calls/sender.ts.
 * `send` takes any number of valid rows (the engine hands windows of a few hundred) and resolves with
 * exactly one outcome per row, in the same order. Row-level failures are outcomes, not rejections.
 * Rows it could not start before `deadline` come back with status 'skipped' and errorCode 'DEFERRED':
 * the engine checkpoints before the first such row, and the next chunk re-reads them.
 * Rejects only for a run-level stop (RunHaltedError: OVERLOAD_LIMIT, bad credentials…).
 */
export interface LeadSender {
  /**
   * `hooks` feed the run's applied journal (what was sent, what was answered): a wrapper of a sender must pass
   * them on, or a retried chunk cannot know what the portal already applied and writes rows twice.
   */
  send(rows: ValidRow[], deadline: number, hooks?: SendHooks): Promise<RowOutcome[]>;
  stats(): SendStats;
  /** The pacer's recent charges, request counter and portal clock, as JSON for the next chunk (a few KB). */
  pacerState?(): unknown;
  /** Starts from a predecessor chunk's pacerState() (anything malformed is ignored). */
  resumePacer?(state: unknown): void;
}

/** Error codes the engine itself assigns. */
export const DEFERRED = 'DEFERRED';

/** Field types of crm.lead.update we validate (seed page + crm.lead.fields user field types). */
export type FieldType =
  | 'integer'
  | 'user'
  | 'crm_company'
  | 'crm_contact'
  | 'string'
  | 'char'
  | 'double'
  | 'date'
  | 'datetime'
  | 'crm_status'
  | 'crm_currency'
  | 'crm_multifield'
  | 'enumeration'
  | 'boolean'
  | 'url'
  | 'crm'
  | 'file'
  | 'location'
  | 'money'
  | 'address'
  | 'resourcebooking'
  | 'iblock_element'
  | 'iblock_section'
  | 'employee';

/** What we know of one writable (or refused) lead field. */
export interface FieldSpec {
  code: string;
  type: FieldType | string;
  /** Several values in one cell (CONTACT_IDS, multiple user fields). */
  multiple?: boolean;
  /** Read-only or immutable: a column for it refuses the file. */
  readOnly?: boolean;
  /** crm_status: the crm.status.list ENTITY_ID (STATUS, SOURCE, HONORIFIC). */
  statusType?: string;
  /** Allowed status codes, when the portal told us (preflight); otherwise any non-empty code passes. */
  statusCodes?: string[];
  /** Enumeration items, when known: the cell may hold the ID or the VALUE (label). */
  items?: { ID: string; VALUE: string }[];
  /** Human labels (custom fields' formLabel/listLabel…) accepted as column names. */
  labels?: string[];
  /** Standard fields' titles from crm.lead.fields (title, formLabel, listLabel: the portal's language), accepted as column names. */
  titles?: string[];
  /** crm_status: each code's name (crm.status.list NAME), so that a cell may give the name instead of the code. */
  statusNames?: Record<string, string>;
  /** crm_currency: the portal's currencies (crm.currency.list), code → full name, when it answered. */
  currencies?: Record<string, string>;
  /** user fields: the portal's users (user.get), when loaded, so that a cell may give a name or an e-mail. */
  users?: PortalUser[];
}

/** One user as user.get returns it (the fields a name or e-mail is matched on). */
export interface PortalUser {
  ID: string;
  NAME?: string;
  LAST_NAME?: string;
  SECOND_NAME?: string;
  EMAIL?: string;
}

/** All fields a header may name: the built-in table, extended by the portal's crm.lead.fields when online. */
export interface Catalogue {
  fields: Map<string, FieldSpec>;
  /** True when built from the live portal (then unknown UF_CRM_* columns are refused). */
  fromPortal: boolean;
}

/** A lead as crm.lead.get / crm.lead.list return it: numbers as strings, multifields as arrays with IDs. */
export type LeadRecord = Record<string, unknown> & {
  ID: string;
  PHONE?: PortalMultifield[];
  EMAIL?: PortalMultifield[];
  WEB?: PortalMultifield[];
  IM?: PortalMultifield[];
};
export interface PortalMultifield {
  ID: string;
  VALUE_TYPE: string;
  VALUE: string;
  TYPE_ID: string;
}

/** One command's failure inside a batch, or a whole call's error body. */
export interface PortalErrorBody {
  error: string;
  error_description: string;
}

/** What `batch` gives back once unwrapped: per-key results and per-key errors (never mixed). */
export interface BatchResult {
  result: Record<string, unknown>;
  errors: Record<string, PortalErrorBody>;
}

/**
 * The narrow portal interface the stages use (lambda/calls/client.ts implements it, with throttling and
 * retries inside). `call` resolves with the `result` field or rejects with PortalError.
 */
export interface PortalApi {
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** `cmd` keys must be non-numeric (e.g. r42) so the portal answers with objects, not lists. */
  /** `deadline` (local ms, optional): limit waits that would end after it reject instead of waiting. */
  batch(cmd: Record<string, string>, opts?: { halt?: boolean; deadline?: number }): Promise<BatchResult>;
}

/** What the sender should write for one row, decided before the write (diff mode reads the lead first). */
export interface PlannedWrite {
  row: ValidRow;
  /** Fields to send; null when nothing differs (the row is then `unchanged`, or `valid` in a dry run). */
  fields: LeadFields | null;
  /** Field codes that change (for the report's `changes` column). */
  changes: string[];
  /** A final outcome decided without writing (e.g. the lead does not exist: failed, NOT_FOUND). */
  outcome?: RowOutcome;
  /** What the write changes, field by field, against the lead as read (diff mode only): the run's change log. */
  log?: ChangeEntry[];
}

/**
 * Decides what each row writes. The blind planner sends the row as is; the diff planner
 * (lambda/calls/planning/diff.ts) reads the leads first. The sender calls `plan` before the first send and again
 * for rows whose write was ambiguous (timeout, reset), so a retry never appends a multifield twice.
 */
export interface WritePlanner {
  /** `known`: leads already read for these rows (by --match's resolution), so the diff need not read them again. */
  plan(rows: ValidRow[], deadline: number, known?: ReadonlyMap<number, LeadRecord>): Promise<PlannedWrite[]>;
}
