import type { RunOptions } from '../../config.ts';
import { changeEntries } from '../../report/changeLog.ts';
import { ADDRESS_FIELDS, isMultifieldType, standardCatalogue, WRITE_ONLY_FIELDS } from '../../payloads/fields.ts';
import type {
  Catalogue,
  FieldSpec,
  LeadFields,
  LeadRecord,
  MultifieldValue,
  PlannedWrite,
  PortalApi,
  PortalMultifield,
  RowOutcome,
  ValidRow,
  WritePlanner,
} from '../../types.ts';
import { DEFERRED } from '../../types.ts';
import { command } from '../encode.ts';
import { applyOps, changeLabels, opsToFields, planMultifield, type MultiOp, type MultifieldMode } from './multifield.ts';
import { sameValue } from './normalise.ts';
import { rowOutcome } from '../../report/outcome.ts';

/**
 * Diff mode: read the rows' leads first, write only what differs.
 *
 * Reading: ONE `batch` request carries up to 50 `crm.lead.list` commands, each filtered by up to 50 IDs
 * (`filter[@ID][]`), `select[]` = the window's field codes + ID + the multifield types the rows touch
 * (crm.lead.list returns multifields only when named), no `start` (≤ 50 IDs never need a second page; the
 * COUNT the portal runs for `total` is over 50 primary keys, and `start=-1` is not understood everywhere).
 * So one request reads up to 2,500 leads. The alternative, `crm.lead.get` inside batch, reads 50 leads per
 * request (one command per lead): 50× the requests against the 2 req/s budget, and 50 separate entity
 * loads, each billed to the operating-time budget, where one list command is one filtered query plus one
 * multifield query for its 50 leads. crm.lead.list wins on both counts; its only cost is that a lead it does
 * not return is "not found or not visible to the webhook's user", which is what crm.lead.get would say too.
 */

export interface DiffPlannerDeps {
  api: PortalApi;
  options: Pick<RunOptions, 'multifield' | 'phoneCountry'>;
  /**
   * The portal's country (ISO 3166), when known: phones without a country code are read in it unless the run
   * names one (options.phoneCountry); neither → RU (phoneKey.ts).
   */
  portalCountry?: string;
  /** The field catalogue (the portal's, from preflight); types drive normalisation. Default: built-in. */
  catalogue?: Catalogue;
  /** Clock for the deadline, ms (default Date.now). */
  now?: () => number;
}

/** IDs per crm.lead.list command (its page size), commands per batch request (the batch limit). */
export const IDS_PER_COMMAND = 50;
export const COMMANDS_PER_BATCH = 50;

/**
 * The diff planner: `plan` always reads fresh (the sender re-calls it before re-sending an ambiguous write,
 * so a retry after a reset-after-apply sees the applied state and plans nothing).
 *
 * @example
 * const planner = createDiffPlanner({ api, options: { multifield: 'merge' }, catalogue });
 * const plans = await planner.plan(rows, Date.now() + 60_000);
 * // plans[i].fields === null → unchanged; plans[i].outcome → decided without a write (NOT_FOUND)
 */
export function createDiffPlanner(deps: DiffPlannerDeps): WritePlanner {
  const now = deps.now ?? Date.now;
  const mode = deps.options.multifield;
  const phoneCountry = deps.options.phoneCountry ?? deps.portalCountry;
  return {
    async plan(rows: ValidRow[], deadline: number, known?: ReadonlyMap<number, LeadRecord>): Promise<PlannedWrite[]> {
      const unread = known ? rows.filter((r) => !known.has(r.id)) : rows;
      const { leads, failures } = await readLeads(deps.api, unread, deadline, now);
      for (const [id, lead] of known ?? []) if (!leads.has(id)) leads.set(id, lead);
      return planWindow(rows, leads, mode, deps.catalogue, failures, phoneCountry);
    },
  };
}

/** A row-level failure to read its lead, decided without a write. */
export interface ReadFailure {
  status: 'failed' | 'skipped';
  errorCode: string;
  message: string;
}

/**
 * Reads the rows' leads: one batch request per 2,500 distinct IDs. A command's error fails that command's
 * rows (not the run); a batch call that rejects (rate limit exhausted, halted portal) rejects `plan`, as the
 * sender expects. Groups not started before `deadline` are DEFERRED.
 */
export async function readLeads(
  api: PortalApi,
  rows: readonly ValidRow[],
  deadline: number,
  now: () => number = Date.now,
): Promise<{ leads: Map<number, LeadRecord>; failures: Map<number, ReadFailure> }> {
  const ids = [...new Set(rows.map((r) => r.id))];
  const select = selectFor(rows);
  const leads = new Map<number, LeadRecord>();
  const failures = new Map<number, ReadFailure>();
  const perBatch = IDS_PER_COMMAND * COMMANDS_PER_BATCH;
  for (let start = 0; start < ids.length; start += perBatch) {
    const group = ids.slice(start, start + perBatch);
    if (start > 0 && now() >= deadline) {
      for (const id of group) failures.set(id, { status: 'skipped', errorCode: DEFERRED, message: 'deferred to the next chunk' });
      continue;
    }
    const cmd = listCommands(group, select);
    // At most 50 commands (the batch limit): client.batch itself reads a request too large or too slow in
    // halves. The deadline bounds limit waits too: a read blocked past it defers the window.
    const { result, errors } = await api.batch(cmd, { halt: false, deadline });
    for (const [key, chunk] of commandChunks(group)) {
      const error = errors[key];
      if (error) {
        const message = `reading the lead failed: ${error.error_description || error.error || 'unknown error'}`;
        for (const id of chunk) failures.set(id, { status: 'failed', errorCode: error.error || 'READ_FAILED', message });
        continue;
      }
      if (!(key in result)) {
        for (const id of chunk)
          failures.set(id, { status: 'failed', errorCode: 'READ_FAILED', message: 'the portal did not run the read' });
        continue;
      }
      for (const lead of asArray(result[key])) {
        const id = Number((lead as LeadRecord).ID);
        if (Number.isInteger(id) && chunk.includes(id)) leads.set(id, lead as LeadRecord);
      }
    }
  }
  return { leads, failures };
}

/**
 * `select[]` for a window: ID, every field the rows set, every multifield they set or clear. Write-only fields
 * (CONTACT_IDS) are not asked for: the portal never returns them.
 */
export function selectFor(rows: readonly ValidRow[]): string[] {
  const codes = new Set<string>(['ID']);
  for (const row of rows) {
    for (const code of Object.keys(row.fields)) if (!WRITE_ONLY_FIELDS.has(code)) codes.add(code);
    for (const clear of row.clears) codes.add(clear.split(':')[0]);
    // Address parts travel together: read them all so the comparison sees every part.
    if (Object.keys(row.fields).some((c) => ADDRESS_FIELDS.includes(c))) for (const c of ADDRESS_FIELDS) codes.add(c);
  }
  return [...codes];
}

/** The batch `cmd` map for a group of ≤ 2,500 IDs: keys l0, l1… (non-numeric, so the portal answers with maps). */
export function listCommands(ids: readonly number[], select: readonly string[]): Record<string, string> {
  const cmd: Record<string, string> = {};
  for (const [key, chunk] of commandChunks(ids)) {
    // No `start`: ≤ 50 IDs fit one page. `start=-1` (no COUNT) would save little on a filter of 50 primary keys,
    // and a portal that takes it as an offset (slice(-1, 49)) would hide all but one lead: every row NOT_FOUND.
    cmd[key] = command('crm.lead.list', { filter: { '@ID': chunk }, select: [...select] });
  }
  return cmd;
}

function commandChunks(ids: readonly number[]): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_COMMAND) out.push([`l${out.length}`, ids.slice(i, i + IDS_PER_COMMAND)]);
  return out;
}

/** A list result may come back as a JSON list or a PHP-style map keyed 0,1,… */
function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') return Object.values(value);
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// Pure planning
// ---------------------------------------------------------------------------------------------------------

type Op = MultiOp & { dropped?: boolean };

/** One row's plan before assembly: scalar fields to send and multifield operations per type. */
interface Draft {
  row: ValidRow;
  scalars: LeadFields;
  scalarChanges: string[];
  /** Multifield type → operations, in the order the row names the types. */
  ops: Map<string, Op[]>;
  outcome?: RowOutcome;
  /** The lead as this row finds it (after the window's earlier rows on it): the change log's `before`. */
  before?: LeadRecord;
}

let defaultCatalogue: Catalogue | undefined;
function catalogueOr(c: Catalogue | undefined): Catalogue {
  if (c) return c;
  defaultCatalogue ??= standardCatalogue();
  return defaultCatalogue;
}

/**
 * What to write for one row, given the lead's current state (as crm.lead.list / crm.lead.get print it).
 * `fields: null` when nothing differs. Pure.
 *
 * @example planUpdate({ ID: '7', OPPORTUNITY: '12500.00' }, { …row, fields: { OPPORTUNITY: 12500 } }, 'merge')
 * // → { row, fields: null, changes: [] }
 */
export function planUpdate(
  current: LeadRecord,
  row: ValidRow,
  mode: MultifieldMode,
  catalogue?: Catalogue,
  phoneCountry?: string,
): PlannedWrite {
  const cat = catalogueOr(catalogue);
  return assemble({ ...draftFor(current, row, mode, cat, phoneCountry), before: current }, cat);
}

/**
 * Plans a window of rows against the leads read for it. A lead named by several rows is planned in row
 * order, each row against the state the earlier rows leave (applied in memory). When a later row removes or
 * rewrites a multifield entry an earlier row of the same window would add, the earlier row's add is dropped
 * or rewritten instead (the entry has no ID yet): the lead ends the same whichever order the two writes run,
 * and no entry is added only to be deleted. Pure.
 */
export function planWindow(
  rows: readonly ValidRow[],
  leads: ReadonlyMap<number, LeadRecord>,
  mode: MultifieldMode,
  catalogue?: Catalogue,
  failures: ReadonlyMap<number, ReadFailure> = new Map(),
  phoneCountry?: string,
): PlannedWrite[] {
  const cat = catalogueOr(catalogue);
  const state = new Map<number, LeadRecord>();
  const pending = new Map<string, Op>();
  let seq = 0;
  const drafts: Draft[] = [];
  for (const row of rows) {
    const failure = failures.get(row.id);
    if (failure) {
      drafts.push({
        row,
        scalars: {},
        scalarChanges: [],
        ops: new Map(),
        outcome: outcome(row, failure.status, failure.errorCode, failure.message),
      });
      continue;
    }
    const current = state.get(row.id) ?? leads.get(row.id);
    if (!current) {
      drafts.push({ row, scalars: {}, scalarChanges: [], ops: new Map(), outcome: outcome(row, 'failed', 'NOT_FOUND', 'Not found') });
      continue;
    }
    const draft: Draft = { ...draftFor(current, row, mode, cat, phoneCountry), before: current };
    // The state after this row, with provisional IDs for the entries it adds.
    const next: LeadRecord = { ...current };
    for (const [code, value] of Object.entries(row.fields)) if (!draft.ops.has(code)) next[code] = value;
    for (const [type, ops] of draft.ops) {
      const adds = ops.filter((o) => o.kind === 'add');
      let a = 0;
      next[type] = applyOps(type, entriesOf(current, type), ops, () => {
        const id = `pending:${++seq}`;
        pending.set(id, adds[a++]);
        return id;
      });
      // Operations on entries an earlier row adds fold into that row's add.
      draft.ops.set(
        type,
        ops.filter((op) => {
          if (op.kind === 'add') return true;
          const origin = pending.get(op.ID);
          if (!origin) return true;
          if (op.kind === 'delete') origin.dropped = true;
          else if (origin.kind === 'add') {
            origin.VALUE = op.VALUE;
            origin.VALUE_TYPE = op.VALUE_TYPE;
          }
          return false;
        }),
      );
    }
    state.set(row.id, next);
    drafts.push(draft);
  }
  return drafts.map((d) => assemble(d, cat));
}

function outcome(row: ValidRow, status: RowOutcome['status'], errorCode: string, message: string): RowOutcome {
  return rowOutcome(row, status, { errorCode, message });
}

function draftFor(current: LeadRecord, row: ValidRow, mode: MultifieldMode, cat: Catalogue, phoneCountry: string | undefined): Draft {
  const scalars: LeadFields = {};
  const scalarChanges: string[] = [];
  const ops = new Map<string, Op[]>();
  let addressChanged = false;

  for (const [code, value] of Object.entries(row.fields)) {
    if (isMultifieldType(code) && Array.isArray(value)) {
      ops.set(code, []); // placeholder keeps the row's order; filled below
      continue;
    }
    const spec = specFor(cat, code, value);
    // A field the read did not return is unknown: write it (a redundant write beats a lost update). A write-only
    // field (CONTACT_IDS: crm.lead.get/list never return it) is ALWAYS written when the row gives it, even if a
    // read seemed to print it: the real portal cannot tell us its value, and rewriting the same list is harmless.
    const known = Object.hasOwn(current, code) && !WRITE_ONLY_FIELDS.has(code);
    if (known && sameValue(spec, current[code], value)) continue;
    scalars[code] = value;
    scalarChanges.push(code);
    if (ADDRESS_FIELDS.includes(code)) addressChanged = true;
  }
  if (addressChanged) {
    // The API advises sending the address parts together: resend the row's unchanged parts too.
    for (const code of ADDRESS_FIELDS) if (code in row.fields && !(code in scalars)) scalars[code] = row.fields[code];
  }

  const clearsByType = new Map<string, string[]>();
  for (const clear of row.clears) {
    const [type, valueType] = clear.split(':');
    const list = clearsByType.get(type) ?? [];
    list.push(valueType ? valueType.toUpperCase() : '*');
    clearsByType.set(type, list);
    if (!ops.has(type)) ops.set(type, []);
  }
  for (const type of [...ops.keys()]) {
    const values = Array.isArray(row.fields[type]) ? (row.fields[type] as MultifieldValue[]) : [];
    ops.set(type, planMultifield(type, entriesOf(current, type), values, clearsByType.get(type) ?? [], mode, phoneCountry));
  }
  return { row, scalars, scalarChanges, ops };
}

/** The lead's entries of one multifield type (absent = none; a PHP map is accepted too). */
function entriesOf(lead: LeadRecord, type: string): PortalMultifield[] {
  const v = (lead as Record<string, unknown>)[type];
  return asArray(v).filter((e): e is PortalMultifield => !!e && typeof e === 'object' && 'ID' in e);
}

function specFor(cat: Catalogue, code: string, value: unknown): FieldSpec {
  return cat.fields.get(code) ?? { code, type: 'string', multiple: Array.isArray(value) };
}

function assemble(d: Draft, cat: Catalogue): PlannedWrite {
  if (d.outcome) return { row: d.row, fields: null, changes: [], outcome: d.outcome };
  const fields: LeadFields = {};
  const changes: string[] = [];
  const order = [...Object.keys(d.row.fields), ...d.ops.keys()];
  const done = new Set<string>();
  for (const code of order) {
    if (done.has(code)) continue;
    done.add(code);
    const ops = d.ops.get(code);
    if (ops) {
      const live = ops.filter((o) => !o.dropped);
      if (live.length === 0) continue;
      fields[code] = opsToFields(live);
      changes.push(...changeLabels(code, live));
    } else if (code in d.scalars) {
      fields[code] = d.scalars[code];
      if (d.scalarChanges.includes(code)) changes.push(code);
    }
  }
  if (Object.keys(fields).length === 0) return { row: d.row, fields: null, changes };
  // The change log is made from the read this plan used: it costs no request (lambda/report/changeLog.ts).
  return { row: d.row, fields, changes, ...(d.before ? { log: changeEntries(d.row.line, d.row.id, d.before, fields, cat) } : {}) };
}
