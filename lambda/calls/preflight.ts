import { RunHaltedError } from '../errors.ts';
import type { Catalogue, FieldSpec, PortalApi, PortalErrorBody, PortalUser } from '../types.ts';
import { command } from './encode.ts';

/**
 * Preflight: what the live portal knows, before row 1. crm.lead.update ignores fields it does not know and
 * still answers `true`, so the header is checked against the portal's own crm.lead.fields, and crm_status
 * values against its crm.status.list (custom stages and sources included).
 *
 * Cost: ONE batch request carries crm.lead.fields and the first page of every status list (STATUS, SOURCE,
 * HONORIFIC, plus any other statusType the base catalogue names). Only a status list with a full first page
 * (50 entries) costs more: its next pages are fetched in one further batch, a few pages at a time.
 */

/** The status lists every lead import may need (crm.lead.fields' statusType values). */
export const LEAD_STATUS_TYPES = ['STATUS', 'SOURCE', 'HONORIFIC'] as const;

/** crm.status.list's (and user.get's) fixed page size. */
const PAGE = 50;
/** user.get pages per extra batch request. */
const PAGE_ROUND = 50;
/** Next pages fetched per status list per extra batch round. */
const PAGES_AHEAD = 4;

/** One entry of crm.lead.fields, as documented (extra keys may appear). */
export interface PortalFieldDescription {
  type?: string;
  isRequired?: boolean;
  isReadOnly?: boolean;
  isImmutable?: boolean;
  isMultiple?: boolean;
  isDynamic?: boolean;
  isDeprecated?: boolean;
  title?: string;
  statusType?: string;
  listLabel?: Label;
  formLabel?: Label;
  filterLabel?: Label;
  items?: { ID: string | number; VALUE: string }[];
  settings?: Record<string, unknown> | null;
}

/** A label: a string, or per-language strings ({ en: "…", ru: "…" }). */
export type Label = string | Record<string, string | null> | null | undefined;

export interface StatusEntry {
  ENTITY_ID: string;
  STATUS_ID: string;
  NAME?: string;
}

/**
 * Loads the portal's lead fields and status lists and returns a catalogue with `fromPortal: true`:
 * - every field crm.lead.fields returns, typed as the portal says, with `multiple` from isMultiple;
 * - `readOnly` for isReadOnly and isImmutable fields (an import only updates, and an immutable field can
 *   only be set on creation);
 * - custom fields (`isDynamic`) with `labels` (listLabel/formLabel/filterLabel, strings or per-language
 *   objects) and, for enumerations, `items` ({ ID, VALUE });
 * - crm_status fields with `statusCodes` (every page of crm.status.list for their statusType);
 * - built-in fields the portal does not list are left out (a write to them would be silently ignored).
 *
 * @example const catalogue = await loadCatalogue(api, standardCatalogue());
 * resolveHeader(cells, { mapping, catalogue }) // now refuses unknown UF_CRM_* columns, accepts labels
 * @throws RunHaltedError PREFLIGHT_FAILED when the portal does not answer crm.lead.fields or a status list
 */
export async function loadCatalogue(api: PortalApi, base: Catalogue, opts: { users?: boolean } = {}): Promise<Catalogue> {
  const baseTypes = [...base.fields.values()].map((s) => s.statusType).filter((t): t is string => !!t);
  const initialTypes = unique([...LEAD_STATUS_TYPES, ...baseTypes]);

  // The currency list rides in the same batch: a portal (or webhook) that cannot answer it only loses currency names.
  const cmd: Record<string, string> = { fields: 'crm.lead.fields', currencies: 'crm.currency.list' };
  if (opts.users) cmd.u0 = userCommand(0);
  for (const [i, type] of initialTypes.entries()) cmd[`s${i}_0`] = statusCommand(type, 0);
  const first = await api.batch(cmd, { halt: false });
  failOn('fields', first.errors.fields, 'crm.lead.fields');
  const described = first.result.fields;
  if (!described || typeof described !== 'object' || Array.isArray(described)) {
    throw new RunHaltedError('PREFLIGHT_FAILED', 'preflight: crm.lead.fields returned no field map');
  }
  const portalFields = described as Record<string, PortalFieldDescription>;

  const statuses = new Map<string, StatusEntry[]>();
  /** Status types whose last fetched page was full: type → next start. */
  let more = new Map<string, number>();
  initialTypes.forEach((type, i) => {
    const key = `s${i}_0`;
    failOn(key, first.errors[key], `crm.status.list ${type}`, first.result);
    const page = entries(first.result[key]);
    statuses.set(type, page);
    if (page.length >= PAGE) more.set(type, PAGE);
  });
  // A status type only the portal names (e.g. a custom crm_status field) starts at page one.
  for (const f of Object.values(portalFields)) {
    const type = statusTypeOf(f);
    if (type && !statuses.has(type)) {
      statuses.set(type, []);
      more.set(type, 0);
    }
  }

  while (more.size > 0) {
    const round: Record<string, string> = {};
    const keys: { key: string; type: string; start: number }[] = [];
    let n = 0;
    for (const [type, start] of more) {
      for (let p = 0; p < PAGES_AHEAD && keys.length < 50; p++) {
        const key = `m${n++}`;
        keys.push({ key, type, start: start + p * PAGE });
        round[key] = statusCommand(type, start + p * PAGE);
      }
    }
    const answer = await api.batch(round, { halt: false });
    const next = new Map<string, number>();
    const stale = new Set<string>();
    for (const { key, type, start } of keys) {
      failOn(key, answer.errors[key], `crm.status.list ${type}`, answer.result);
      const page = entries(answer.result[key]);
      const known = new Set(statuses.get(type)!.map((e) => `${e.ENTITY_ID}\u0000${e.STATUS_ID}`));
      const fresh = page.filter((e) => !known.has(`${e.ENTITY_ID}\u0000${e.STATUS_ID}`));
      statuses.get(type)!.push(...fresh);
      // A page that brings nothing new means the portal ignores `start` (the method's docs list no paging):
      // the list is complete, and asking for further pages would never end.
      if (page.length >= PAGE && fresh.length === 0) stale.add(type);
      const last = Math.max(start, ...keys.filter((k) => k.type === type).map((k) => k.start));
      if (start === last && page.length >= PAGE) next.set(type, start + PAGE);
    }
    for (const type of stale) next.delete(type);
    more = next;
  }

  const catalogue = buildCatalogue(
    base,
    portalFields,
    statuses,
    currencyNames(first.errors.currencies ? undefined : first.result.currencies),
  );
  if (!opts.users || first.errors.u0) return catalogue;
  return withUsers(catalogue, await moreUsers(api, entriesOf<PortalUser>(first.result.u0, 'ID')));
}

/**
 * The portal's active users, for a responsible-person column given as names or e-mails. Only when the header
 * has such a column (the caller asks): a portal with 5,000 users costs two more batch requests (50 pages each).
 * The first page rode in the preflight batch; the rest are fetched PAGE_ROUND pages per request.
 */
async function moreUsers(api: PortalApi, first: PortalUser[]): Promise<PortalUser[]> {
  const users = [...first];
  let full = first.length >= PAGE;
  while (full) {
    const round: Record<string, string> = {};
    for (let p = 0; p < PAGE_ROUND; p++) round[`u${p}`] = userCommand(users.length + p * PAGE);
    const answer = await api.batch(round, { halt: false });
    full = false;
    for (let p = 0; p < PAGE_ROUND; p++) {
      const page = answer.errors[`u${p}`] ? [] : entriesOf<PortalUser>(answer.result[`u${p}`], 'ID');
      const known = new Set(users.map((u) => String(u.ID)));
      const fresh = page.filter((u) => !known.has(String(u.ID)));
      users.push(...fresh);
      // Stop at a short page, or at one that brings nothing new (a portal ignoring `start`).
      full = page.length >= PAGE && fresh.length > 0;
      if (!full) break;
    }
  }
  return users;
}

/** The catalogue with the users on every user-typed field (ASSIGNED_BY_ID…). */
export function withUsers(catalogue: Catalogue, users: readonly PortalUser[]): Catalogue {
  const fields = new Map(catalogue.fields);
  const list = users.map((u) => ({ ...u, ID: String(u.ID) }));
  for (const [code, spec] of fields) if (spec.type === 'user' && !spec.readOnly) fields.set(code, { ...spec, users: list });
  return { ...catalogue, fields };
}

function userCommand(start: number): string {
  return command('user.get', { sort: 'ID', order: 'ASC', FILTER: { ACTIVE: true }, start });
}

/**
 * crm.currency.list → code → full name (the answer's FULL_NAME, in the request's language); undefined when the
 * portal did not answer it, so currency cells are checked as codes only.
 */
export function currencyNames(answer: unknown): Record<string, string> | undefined {
  const list = Array.isArray(answer) ? answer : answer && typeof answer === 'object' ? Object.values(answer) : undefined;
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const c of list) {
    if (!c || typeof c !== 'object' || typeof (c as { CURRENCY?: unknown }).CURRENCY !== 'string') continue;
    const { CURRENCY, FULL_NAME } = c as { CURRENCY: string; FULL_NAME?: unknown };
    out[CURRENCY] = typeof FULL_NAME === 'string' ? FULL_NAME.trim() : '';
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The catalogue from a crm.lead.fields map and the status lists (type → entries). Pure.
 */
export function buildCatalogue(
  base: Catalogue,
  portalFields: Record<string, PortalFieldDescription>,
  statuses: ReadonlyMap<string, readonly StatusEntry[]>,
  currencies?: Record<string, string>,
): Catalogue {
  const fields = new Map<string, FieldSpec>();
  for (const [code, f] of Object.entries(portalFields)) {
    if (!f || typeof f !== 'object') continue;
    const known = base.fields.get(code);
    const spec: FieldSpec = { ...known, code, type: f.type ?? known?.type ?? 'string' };
    if (f.isMultiple) spec.multiple = true;
    else if (known?.multiple === undefined) delete spec.multiple;
    if (f.isReadOnly || f.isImmutable) spec.readOnly = true;
    else delete spec.readOnly;
    if (code === 'ID') spec.readOnly = true;

    const statusType = statusTypeOf(f) ?? known?.statusType;
    if (spec.type === 'crm_status' && statusType) {
      spec.statusType = statusType;
      const list = statuses.get(statusType);
      if (list) {
        const own = list.filter((s) => s.ENTITY_ID === undefined || s.ENTITY_ID === statusType);
        spec.statusCodes = unique(own.map((s) => String(s.STATUS_ID)));
        spec.statusNames = Object.fromEntries(own.map((s) => [String(s.STATUS_ID), typeof s.NAME === 'string' ? s.NAME : '']));
      }
    }
    if (spec.type === 'crm_currency' && currencies) spec.currencies = currencies;
    if (Array.isArray(f.items)) {
      spec.items = f.items.map((i) => ({ ID: String(i.ID), VALUE: String(i.VALUE ?? '') }));
    }
    const names = unique(
      [f.formLabel, f.listLabel, f.filterLabel, f.title].flatMap(labelTexts).filter((l) => l.toUpperCase() !== code.toUpperCase()),
    );
    // Custom fields' labels are the user's own names; standard fields' titles rank after the export's names.
    if (f.isDynamic && names.length) spec.labels = names;
    else delete spec.labels;
    if (!f.isDynamic && names.length) spec.titles = names;
    else delete spec.titles;
    fields.set(code, spec);
  }
  // ID is the key column: keep it even if a portal left it out of the description.
  if (!fields.has('ID')) fields.set('ID', base.fields.get('ID') ?? { code: 'ID', type: 'integer', readOnly: true });
  return { fields, fromPortal: true };
}

/** Every non-empty text of a label: a string, or each language's string of a per-language object. */
export function labelTexts(label: Label): string[] {
  if (typeof label === 'string') return label.trim() ? [label.trim()] : [];
  if (label && typeof label === 'object') {
    return Object.values(label)
      .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
      .map((v) => v.trim());
  }
  return [];
}

function statusTypeOf(f: PortalFieldDescription): string | undefined {
  if (f.type !== 'crm_status') return undefined;
  if (typeof f.statusType === 'string' && f.statusType) return f.statusType;
  // Custom crm_status fields name their list in settings.ENTITY_TYPE.
  const t = f.settings && typeof f.settings === 'object' ? f.settings.ENTITY_TYPE : undefined;
  return typeof t === 'string' && t ? t : undefined;
}

function statusCommand(type: string, start: number): string {
  // Sorted by ID so pages do not shift between requests.
  return command('crm.status.list', { order: { ID: 'ASC' }, filter: { ENTITY_ID: type }, start });
}

function entries(value: unknown): StatusEntry[] {
  return entriesOf<StatusEntry>(value, 'STATUS_ID');
}

/** A list answer (a JSON list, or an object keyed 0…n) → its entries that have `key`. */
function entriesOf<T>(value: unknown, key: string): T[] {
  const list = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.values(value) : [];
  return list.filter((e): e is T => !!e && typeof e === 'object' && key in e);
}

function failOn(key: string, error: PortalErrorBody | undefined, what: string, result?: Record<string, unknown>): void {
  // A command missing from both maps did not run: an empty list would refuse every status code.
  if (!error && result && !(key in result)) {
    throw new RunHaltedError('PREFLIGHT_FAILED', `preflight: ${what} was not run by the portal (${key})`);
  }
  if (!error) return;
  const text = error.error_description || error.error || 'unknown error';
  throw new RunHaltedError('PREFLIGHT_FAILED', `preflight: ${what} failed (${key}): ${text}`);
}

function unique<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}
