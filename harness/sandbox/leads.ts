/**
 * The sandbox's lead store and the crm.* methods the importer touches, with the real portal's semantics:
 * unknown and read-only fields silently ignored, multifields appended / changed / deleted by ID, numbers
 * and dates kept as the strings crm.lead.get prints, "Lead is not found" (update), "Not found" (get) and
 * "ID is not defined or invalid." as HTTP 400 with an empty `error`. Every applied write goes to the ledger so tests can check what was received.
 */
import type { LeadRecord, PortalMultifield } from '../../lambda/types.ts';
import {
  CATALOGUE_METHODS,
  catalogueCall,
  DEFAULT_CURRENCIES,
  DEFAULT_USERS,
  MULTIFIELD_CODES,
  MULTIFIELD_NAMES,
  buildFieldMap,
  buildStatuses,
  type PortalField,
  type StatusEntry,
  type StatusOptions,
  type UserFieldOption,
} from './catalogue.ts';
import { DuplicateSearch, matchesMultiFieldFilter, prepareMultiFieldFilter } from './duplicates.ts';
import { asList, phpInt } from './query.ts';
import { formatDate, formatDateTime, formatInt, formatMoney, isoAt, scalarText } from './values.ts';

/** A REST error the portal answers with: HTTP status, `error`, `error_description`. */
export class RestError extends Error {
  override name = 'RestError';
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error || 'ERROR'}: ${description}`);
  }
}

/** One applied write, as received. */
export interface LedgerEntry {
  seq: number;
  /** ms on the sandbox clock. */
  at: number;
  method: string;
  id: number;
  fields: Record<string, unknown>;
  params: Record<string, unknown>;
  via: 'direct' | 'batch';
  requestSeq: number;
}

export interface CallContext {
  via: 'direct' | 'batch';
  requestSeq: number;
  /** The calling webhook's user is an admin (default true). */
  admin?: boolean;
}

/** A method's answer before the envelope: `result`, plus `total`/`next` for list methods. */
export interface MethodResult {
  result: unknown;
  total?: number;
  next?: number;
}

export interface LeadStoreOptions {
  userId: number;
  userFields: UserFieldOption[];
  statuses?: StatusOptions;
  /** Server time zone offset, minutes (default +03:00). */
  tzOffset: number;
  now: () => number;
}

const PAGE = 50;
const NUMERIC_TYPES = new Set(['integer', 'user', 'crm_company', 'crm_contact', 'double', 'employee']);
/** CCrmFieldMulti::GetDefaultValueType: OTHER for IM, WORK for every other type. */
const defaultValueType = (type: string): string => (type === 'IM' ? 'OTHER' : 'WORK');
const NOT_FOUND = () => new RestError(400, '', 'Not found');
/** crm.lead.update's own text for a missing lead (CCrmLeadRestProxy); crm.lead.get says "Not found". */
const LEAD_NOT_FOUND = () => new RestError(400, '', 'Lead is not found');
const ACCESS_DENIED = () => new RestError(400, '', 'Access denied.');
const BAD_ID = () => new RestError(400, '', 'ID is not defined or invalid.');

type Stored = Record<string, unknown>;

export class LeadStore {
  readonly fieldMap: Record<string, PortalField>;
  readonly statuses: StatusEntry[];
  private readonly rows = new Map<number, Stored>();
  private readonly log: LedgerEntry[] = [];
  private nextId = 1;
  private nextFmId = 1001;
  private seeds = 0;
  /** crm.duplicate.findbycomm's index, rebuilt when a write or a seed changed the leads. */
  private readonly duplicates = new DuplicateSearch(
    () => this.all(),
    () => `${this.log.length}:${this.seeds}`,
  );

  constructor(private readonly opts: LeadStoreOptions) {
    this.fieldMap = buildFieldMap(opts.userFields);
    this.statuses = buildStatuses(opts.statuses);
  }

  /** Creates leads (seeding, not an API call): any field, incl. read-only ones, multifields as values. */
  seed(leads: Array<Record<string, unknown>>): number[] {
    this.seeds++;
    return leads.map((input) => {
      const wanted = phpInt(input.ID);
      const id = wanted > 0 && !this.rows.has(wanted) ? wanted : this.nextId;
      this.nextId = Math.max(this.nextId, id + 1);
      const lead = this.blank(id);
      this.rows.set(id, lead);
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input)) {
        if (k === 'ID') continue;
        if ((MULTIFIELD_CODES as readonly string[]).includes(k)) {
          const list = asList(v) ?? [];
          fields[k] = list.map((e) => (typeof e === 'object' && e !== null ? { ...e, ID: undefined } : { VALUE: String(e) }));
        } else fields[k] = v;
      }
      this.apply(lead, fields, true);
      return id;
    });
  }

  has(id: number): boolean {
    return this.rows.has(id);
  }

  /** The lead as crm.lead.get returns it. */
  get(id: number): LeadRecord | undefined {
    const row = this.rows.get(id);
    return row ? this.render(row) : undefined;
  }

  all(): LeadRecord[] {
    return [...this.rows.keys()].sort((a, b) => a - b).map((id) => this.render(this.rows.get(id)!));
  }

  /** Number of applied writes (cheap, for stats). */
  writes(): number {
    return this.log.length;
  }

  ledger(): LedgerEntry[] {
    return this.log.map((e) => structuredClone(e));
  }

  /** Runs one crm.* method. Throws RestError for a method-level failure; unknown methods → 404. */
  call(method: string, params: Record<string, unknown>, ctx: CallContext): MethodResult {
    switch (method) {
      case 'crm.lead.update':
        return { result: this.update(params, ctx) };
      case 'crm.lead.get':
        return { result: this.getById(params) };
      case 'crm.lead.list':
        return this.list(params);
      case 'crm.lead.fields':
        return { result: structuredClone(this.fieldMap) };
      case 'crm.status.list':
        return this.statusList(params);
      case 'crm.duplicate.findbycomm':
        return this.duplicates.findByComm(params);
      default: {
        const answer = catalogueCall(method, params, { currencies: DEFAULT_CURRENCIES, users: DEFAULT_USERS });
        if (answer) return answer;
        throw new RestError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
      }
    }
  }

  /** Methods `call` knows (for routing and 404s). */
  static readonly methods = [
    'crm.lead.update',
    'crm.lead.get',
    'crm.lead.list',
    'crm.lead.fields',
    'crm.status.list',
    'crm.duplicate.findbycomm',
    ...CATALOGUE_METHODS,
  ];

  private update(params: Record<string, unknown>, ctx: CallContext): true {
    const id = phpInt(param(params, 'id'));
    if (id <= 0) throw BAD_ID();
    const fields = param(params, 'fields');
    if (typeof fields !== 'object' || fields === null) throw new RestError(400, '', "The parameter 'fields' must be array.");
    const lead = this.rows.get(id);
    // The permission check runs before the lookup: a non-admin cannot be granted rights on a lead that is not there.
    if (!lead && ctx.admin === false) throw ACCESS_DENIED();
    if (!lead) throw LEAD_NOT_FOUND();
    const refusal = checkFields(fields as Record<string, unknown>);
    if (refusal) throw new RestError(400, '', refusal);
    const extra = param(params, 'params');
    this.log.push({
      seq: this.log.length + 1,
      at: this.opts.now(),
      method: 'crm.lead.update',
      id,
      fields: structuredClone(fields as Record<string, unknown>),
      params: typeof extra === 'object' && extra !== null ? structuredClone(extra as Record<string, unknown>) : {},
      via: ctx.via,
      requestSeq: ctx.requestSeq,
    });
    this.apply(lead, fields as Record<string, unknown>, false);
    lead.DATE_MODIFY = isoAt(this.opts.now(), this.opts.tzOffset);
    lead.MODIFY_BY_ID = String(this.opts.userId);
    return true;
  }

  private getById(params: Record<string, unknown>): LeadRecord {
    const id = phpInt(param(params, 'id'));
    if (id <= 0) throw BAD_ID();
    const lead = this.get(id);
    if (!lead) throw NOT_FOUND();
    return lead;
  }

  private list(params: Record<string, unknown>): MethodResult {
    const filter = objectParam(params, 'filter');
    const order = objectParam(params, 'order');
    const select = (asList(param(params, 'select')) ?? []).map((s) => String(s));
    const startRaw = param(params, 'start');
    const start = phpInt(startRaw);
    // EMAIL / PHONE / WEB / IM conditions as CCrmEntityHelper::PrepareMultiFieldFilter reads them (duplicates.ts).
    const { filter: plain, fm } = prepareMultiFieldFilter(filter);
    let rows = this.candidates(plain).filter((r) => this.matches(r, plain) && matchesMultiFieldFilter(r, fm));
    rows = this.sort(rows, order);
    const keys = this.selectKeys(select);
    const offset = Math.max(0, start);
    const page = rows.slice(offset, offset + PAGE).map((r) => this.render(r, keys));
    // start=-1 skips the count, as on the real portal (no total, no next).
    if (start < 0) return { result: page };
    const out: MethodResult = { result: page, total: rows.length };
    if (offset + PAGE < rows.length) out.next = offset + PAGE;
    return out;
  }

  /** crm.status.list: filter by any column, order (default SORT, then ID), pages of 50 with total/next. */
  private statusList(params: Record<string, unknown>): MethodResult {
    const filter = objectParam(params, 'filter');
    const order = Object.entries(objectParam(params, 'order'));
    const start = Math.max(0, phpInt(param(params, 'start')));
    const rows = this.statuses.filter((s) =>
      Object.entries(filter).every(([k, v]) => {
        const key = k.replace(/^[=!@<>%]+/, '').toUpperCase();
        const have = (s as unknown as Record<string, unknown>)[key];
        const list = asList(v);
        const eq = list ? list.some((x) => String(x) === String(have)) : String(v) === String(have);
        return k.startsWith('!') ? !eq : eq;
      }),
    );
    const specs = order.length
      ? order.map(([k, v]) => ({ key: k.toUpperCase(), desc: String(v).toUpperCase() === 'DESC' }))
      : [{ key: 'SORT', desc: false }];
    rows.sort((a, b) => {
      for (const { key, desc } of specs) {
        const c = compare((a as unknown as Stored)[key], (b as unknown as Stored)[key], key === 'ID' || key === 'SORT');
        if (c !== 0) return desc ? -c : c;
      }
      return Number(a.ID) - Number(b.ID);
    });
    const out: MethodResult = { result: rows.slice(start, start + PAGE).map((s) => structuredClone(s)), total: rows.length };
    if (start + PAGE < rows.length) out.next = start + PAGE;
    return out;
  }

  private blank(id: number): Stored {
    const now = isoAt(this.opts.now(), this.opts.tzOffset);
    const user = String(this.opts.userId);
    const lead: Stored = {};
    for (const [code, f] of Object.entries(this.fieldMap)) {
      if (f.type === 'crm_multifield') lead[code] = [];
      else lead[code] = f.isMultiple ? [] : null;
    }
    Object.assign(lead, {
      ID: String(id),
      TITLE: `Lead #${id}`,
      COMPANY_ID: '0',
      CONTACT_ID: null,
      CONTACT_IDS: [],
      IS_RETURN_CUSTOMER: 'N',
      BIRTHDATE: '',
      SOURCE_ID: 'CALL',
      STATUS_ID: 'NEW',
      STATUS_SEMANTIC_ID: 'P',
      CURRENCY_ID: 'USD',
      OPPORTUNITY: '0.00',
      IS_MANUAL_OPPORTUNITY: 'N',
      OPENED: 'Y',
      HAS_PHONE: 'N',
      HAS_EMAIL: 'N',
      HAS_IMOL: 'N',
      ASSIGNED_BY_ID: user,
      CREATED_BY_ID: user,
      MODIFY_BY_ID: user,
      MOVED_BY_ID: user,
      DATE_CREATE: now,
      DATE_MODIFY: now,
      MOVED_TIME: now,
      DATE_CLOSED: '',
      LAST_ACTIVITY_BY: user,
      LAST_ACTIVITY_TIME: now,
    });
    return lead;
  }

  /** Applies update `fields` to a stored lead. `seeding` also writes read-only fields. */
  private apply(lead: Stored, fields: Record<string, unknown>, seeding: boolean): void {
    for (const [code, value] of Object.entries(fields)) {
      const f = this.fieldMap[code];
      if (!f || code === 'ID') continue; // unknown fields are silently ignored
      if (f.isReadOnly && !seeding) continue;
      if (f.type === 'crm_multifield') {
        this.applyMultifield(lead, code, value);
        continue;
      }
      const next = this.convert(code, f, value);
      if (next !== undefined) lead[code] = next;
      if (code === 'STATUS_ID' && next !== undefined) this.moved(lead);
    }
    const has = (t: string) => ((lead[t] as PortalMultifield[]).length > 0 ? 'Y' : 'N');
    lead.HAS_PHONE = has('PHONE');
    lead.HAS_EMAIL = has('EMAIL');
    // CCrmFieldMulti::HasImolValues: an IM value starting "imol|" (an Open Channel binding).
    lead.HAS_IMOL = (lead.IM as PortalMultifield[]).some((m) => m.VALUE.startsWith('imol|')) ? 'Y' : 'N';
    const linked = (v: unknown) => v !== null && v !== '0' && v !== '';
    if (linked(lead.COMPANY_ID) || linked(lead.CONTACT_ID)) lead.IS_RETURN_CUSTOMER = 'Y';
  }

  private moved(lead: Stored): void {
    const status = this.statuses.find((s) => s.ENTITY_ID === 'STATUS' && s.STATUS_ID === lead.STATUS_ID);
    const sem = status?.SEMANTICS ?? 'P';
    lead.STATUS_SEMANTIC_ID = sem || 'P';
    const now = isoAt(this.opts.now(), this.opts.tzOffset);
    lead.MOVED_TIME = now;
    lead.MOVED_BY_ID = String(this.opts.userId);
    lead.DATE_CLOSED = sem === 'S' || sem === 'F' ? now : '';
  }

  /** A request value in the stored (printed) form; undefined = leave the field unchanged. */
  private convert(code: string, f: PortalField, value: unknown): unknown {
    if (f.isMultiple) {
      const list = asList(value) ?? (value === '' || value === null ? [] : [value]);
      const out = list.map((v) => this.convertOne(code, f, v)).filter((v) => v !== undefined && v !== null && v !== '');
      return out;
    }
    return this.convertOne(code, f, value);
  }

  private convertOne(code: string, f: PortalField, value: unknown): unknown {
    const text = scalarText(value);
    if (text === undefined) return undefined; // arrays/objects in a scalar field are ignored
    switch (f.type) {
      case 'integer':
      case 'user':
      case 'employee':
      case 'crm_company':
      case 'crm_contact':
        return code === 'COMPANY_ID' && text === '' ? '0' : formatInt(text);
      case 'double':
        return formatMoney(code === 'OPPORTUNITY' ? normaliseAmount(text) : text);
      case 'date':
        return formatDate(text, this.opts.tzOffset);
      case 'datetime':
        return formatDateTime(text, this.opts.tzOffset);
      case 'boolean':
        return text === '1' || text.toUpperCase() === 'Y' || text.toLowerCase() === 'true';
      case 'enumeration': {
        if (text === '') return null;
        const item = f.items?.find((i) => i.ID === String(phpInt(text)));
        return item ? item.ID : undefined; // an unknown item ID leaves the value unchanged
      }
      default:
        return text;
    }
  }

  /**
   * CCrmFieldMulti::SetFields as the REST proxy feeds it: an entry without ID is appended (its VALUE_TYPE
   * defaulted), an entry with this lead's ID is rewritten (a missing VALUE_TYPE resets it to the default)
   * or deleted (DELETE=Y or an empty VALUE), an ID of another lead is ignored; VALUE is trimmed.
   */
  private applyMultifield(lead: Stored, type: string, raw: unknown): void {
    const list = asList(raw);
    if (!list) return;
    let entries = lead[type] as PortalMultifield[];
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const it = item as Record<string, unknown>;
      const id = it.ID === undefined || it.ID === null || it.ID === '' ? 0 : phpInt(it.ID);
      const value = scalarText(it.VALUE)?.trim();
      const valueType = scalarText(it.VALUE_TYPE)?.trim() || defaultValueType(type);
      if (id > 0) {
        const entry = entries.find((e) => e.ID === String(id));
        if (!entry) continue; // an ID of another lead or type is ignored
        if (it.DELETE === 'Y' || value === undefined || value === '') {
          entries = entries.filter((e) => e !== entry);
        } else {
          entry.VALUE = value;
          entry.VALUE_TYPE = valueType;
        }
      } else if (value !== undefined && value !== '') {
        entries.push({ ID: String(this.nextFmId++), VALUE_TYPE: valueType, VALUE: value, TYPE_ID: type });
      }
    }
    lead[type] = entries;
  }

  /**
   * The printed record. crm.lead.get lists every standard field and user field, and a multifield only when
   * the lead has values in it. CONTACT_IDS is never printed (no such column in CCrmLead::GetFields).
   */
  private render(row: Stored, only?: ReadonlySet<string>): LeadRecord {
    // `only` (a list's select) is applied before copying: cloning every field of 2,500 leads to keep three
    // made one diff read cost ~1 s of the chunk's own event loop.
    const out: Record<string, unknown> = {};
    for (const [code, f] of Object.entries(this.fieldMap)) {
      if (f.type === 'crm_multifield') continue;
      if (code === 'CONTACT_IDS') continue;
      if (only && !only.has(code)) continue;
      out[code] = structuredClone(row[code]);
    }
    for (const code of MULTIFIELD_CODES) {
      if (only && !only.has(code)) continue;
      const list = row[code] as PortalMultifield[];
      if (list.length) out[code] = structuredClone(list);
    }
    return out as LeadRecord;
  }

  /** select → printed keys, in field-map order. Default and "*": standard single fields; "UF_*": user fields. */
  private selectKeys(select: string[]): Set<string> {
    const sel = select.length ? select : ['*'];
    const keys = new Set<string>(['ID']);
    for (const s of sel) {
      if (s === '*') {
        for (const [code, f] of Object.entries(this.fieldMap)) {
          if (!f.isDynamic && f.type !== 'crm_multifield' && code !== 'CONTACT_IDS') keys.add(code);
        }
      } else if (s === 'UF_*') {
        for (const [code, f] of Object.entries(this.fieldMap)) if (f.isDynamic) keys.add(code);
      } else if (this.fieldMap[s] && s !== 'CONTACT_IDS') keys.add(s);
    }
    return keys;
  }

  /** Rows an ID / =ID / @ID filter can match, looked up by key (the full filter still applies after). */
  private candidates(filter: Record<string, unknown>): Stored[] {
    for (const key of ['ID', '=ID', '@ID']) {
      if (!(key in filter)) continue;
      const want = filter[key];
      const list = asList(want) ?? (key === '@ID' ? String(want).split(',') : [want]);
      const ids = [...new Set(list.map((v) => phpInt(v)))];
      return ids.map((id) => this.rows.get(id)).filter((r): r is Stored => r !== undefined);
    }
    return [...this.rows.values()];
  }

  private matches(row: Stored, filter: Record<string, unknown>): boolean {
    for (const [rawKey, want] of Object.entries(filter)) {
      const m = /^(!@|@|>=|<=|!=|!%|=%|%=|>|<|=|!|%)?(.+)$/.exec(rawKey);
      if (!m) continue;
      const op = m[1] ?? '=';
      const code = m[2];
      const f = this.fieldMap[code];
      if (!f) continue; // unknown filter keys are ignored
      const numeric = NUMERIC_TYPES.has(f.type);
      const have = row[code];
      const values: unknown[] =
        f.type === 'crm_multifield' ? (have as PortalMultifield[]).map((e) => e.VALUE) : Array.isArray(have) ? have : [have];
      if (!testFilter(op, values, want, numeric, f.type)) return false;
    }
    return true;
  }

  private sort(rows: Stored[], order: Record<string, unknown>): Stored[] {
    const specs = Object.entries(order)
      .map(([k, v]) => ({ code: k.toUpperCase(), desc: String(v).toUpperCase() === 'DESC' }))
      .filter((s) => this.fieldMap[s.code] && this.fieldMap[s.code].type !== 'crm_multifield');
    const cmp = (a: Stored, b: Stored): number => {
      for (const s of specs) {
        const c = compare(a[s.code], b[s.code], NUMERIC_TYPES.has(this.fieldMap[s.code].type));
        if (c !== 0) return s.desc ? -c : c;
      }
      return Number(a.ID) - Number(b.ID);
    };
    return [...rows].sort(cmp);
  }
}

/** CheckFields' rewrite of a string OPPORTUNITY: "," → ".", spaces dropped, a leading "." gets a "0". */
function normaliseAmount(text: string): string {
  const t = text.replace(/,/g, '.').replace(/ /g, '');
  return t.startsWith('.') ? `0${t}` : t;
}

/** PHP empty(): "", "0", 0, false, null, an empty array. */
function phpEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '' || v === '0') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v as object).length === 0;
}

/**
 * Bitrix's check_email() (not strict): trimmed, the part inside <…> when there is one, at most 320
 * characters, a dot-atom local part and a domain of labels ending in a 2–20 character top label.
 */
export function checkEmail(raw: string): boolean {
  let email = raw.trim();
  const inner = /.*?[<[(](.*?)[>\])].*/i.exec(email);
  if (inner && inner[1] !== '') email = inner[1];
  if (email.length > 320) return false;
  const atext = "[=_0-9a-z+~'!$&*^`|#%/?{}-]";
  return new RegExp(`^${atext}+(\\.${atext}+)*@(([-0-9a-z]+\\.)+)([a-z0-9-]{2,20})$`, 'iu').test(email);
}

/**
 * CCrmLead::CheckFields for an update: TITLE sent but empty(), a string OPPORTUNITY that is not a number
 * after normalising, and CCrmFieldMulti::CheckComplexFields (a VALUE over 250 characters, an e-mail that
 * fails check_email). Returns LAST_ERROR (each message ends in "<br />") or undefined when all is well.
 */
export function checkFields(fields: Record<string, unknown>): string | undefined {
  let err = '';
  if ('TITLE' in fields && fields.TITLE !== null && phpEmpty(fields.TITLE)) err += "The required field 'Lead Name' is missing.<br />";
  const amount = fields.OPPORTUNITY;
  if (typeof amount === 'string' && amount !== '' && !/^-?\d+(\.\d+)?$/.test(normaliseAmount(amount))) {
    err += 'The "Opportunity" field contains invalid characters.<br />';
  }
  for (const type of MULTIFIELD_CODES) {
    for (const item of asList(fields[type]) ?? []) {
      if (typeof item !== 'object' || item === null) continue;
      const it = item as Record<string, unknown>;
      if (it.DELETE === 'Y') continue;
      const value = scalarText(it.VALUE) ?? '';
      const name = MULTIFIELD_NAMES[`${type}_${scalarText(it.VALUE_TYPE)?.trim() || defaultValueType(type)}`] ?? '';
      if ([...value].length > 250) err += `The field "${name}" must not exceed 250 characters.<br />`;
      if (type === 'EMAIL' && value !== '' && !checkEmail(value)) err += `The field "${name}" contains an incorrect address.<br />`;
    }
  }
  return err || undefined;
}

/** A parameter by name, lower or upper case (the crm REST proxy accepts both). */
export function param(params: Record<string, unknown>, name: string): unknown {
  if (name in params) return params[name];
  const upper = name.toUpperCase();
  return upper in params ? params[upper] : undefined;
}

function objectParam(params: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = param(params, name);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function compare(a: unknown, b: unknown, numeric: boolean): number {
  if (a === b) return 0;
  if (a === null || a === undefined || a === '') return -1;
  if (b === null || b === undefined || b === '') return 1;
  if (numeric) return Number(a) - Number(b);
  const da = Date.parse(String(a));
  const db = Date.parse(String(b));
  if (/^\d{4}-\d{2}-\d{2}T/.test(String(a)) && !Number.isNaN(da) && !Number.isNaN(db)) return da - db;
  return String(a).localeCompare(String(b));
}

function likeToRegex(pattern: string): RegExp {
  const esc = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${esc}$`, 'is');
}

/** One filter condition on a field's values (multifields and multiple fields: any value may match). */
function testFilter(op: string, values: unknown[], want: unknown, numeric: boolean, type: string): boolean {
  const wantList = asList(want);
  const eq = (a: unknown, b: unknown) =>
    numeric
      ? a !== null && a !== '' && Number(a) === Number(b) && String(b).trim() !== ''
      : String(a ?? '').toLowerCase() === String(b ?? '').toLowerCase();
  const inList = (list: unknown[]) => values.some((v) => list.some((w) => eq(v, w)));
  switch (op) {
    case '@':
      return inList(wantList ?? String(want).split(','));
    case '!@':
      return !inList(wantList ?? String(want).split(','));
    case '=':
      return wantList ? inList(wantList) : values.some((v) => eq(v, want));
    case '!':
    case '!=':
      return wantList ? !inList(wantList) : !values.some((v) => eq(v, want));
    case '>':
    case '>=':
    case '<':
    case '<=': {
      const w = wantList ? wantList[0] : want;
      return values.some((v) => {
        if (v === null || v === undefined || v === '') return false;
        let c: number;
        if (numeric) c = Number(v) - Number(w);
        else if (type === 'date' || type === 'datetime') c = Date.parse(String(v)) - Date.parse(String(w));
        else c = String(v).localeCompare(String(w));
        return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0;
      });
    }
    case '%':
      return values.some((v) =>
        String(v ?? '')
          .toLowerCase()
          .includes(String(want).toLowerCase()),
      );
    case '!%':
      return !values.some((v) =>
        String(v ?? '')
          .toLowerCase()
          .includes(String(want).toLowerCase()),
      );
    case '=%':
    case '%=':
      return values.some((v) => likeToRegex(String(want)).test(String(v ?? '')));
    default:
      return true;
  }
}
