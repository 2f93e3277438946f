/**
 * The sandbox portal's lead field map (crm.lead.fields), default user fields and crm.status.list entries.
 * Shapes follow the official docs: crm-lead-fields.md (standard fields), crm-company-fields.md (user fields:
 * isDynamic, title = code, listLabel/formLabel/filterLabel, enumeration items [{ID, VALUE}]),
 * crm-status-list.md (status rows).
 */

export interface PortalField {
  type: string;
  isRequired: boolean;
  isReadOnly: boolean;
  isImmutable: boolean;
  isMultiple: boolean;
  isDynamic: boolean;
  title: string;
  statusType?: string;
  isDeprecated?: boolean;
  settings?: Record<string, unknown>;
  items?: { ID: string; VALUE: string }[];
  listLabel?: string;
  formLabel?: string;
  filterLabel?: string;
}

/** A custom lead field the sandbox should expose (code must start with UF_CRM_). */
export interface UserFieldOption {
  code: string;
  type: 'string' | 'enumeration' | 'integer' | 'double' | 'date' | 'datetime' | 'boolean' | 'url' | 'employee' | 'crm';
  label?: string;
  multiple?: boolean;
  mandatory?: boolean;
  /** Enumeration labels; item IDs are assigned from 1 in order unless given. */
  items?: Array<string | { ID: string | number; VALUE: string }>;
}

export interface StatusEntry {
  ID: string;
  ENTITY_ID: string;
  STATUS_ID: string;
  NAME: string;
  NAME_INIT: string;
  SORT: string;
  SYSTEM: 'Y' | 'N';
  CATEGORY_ID: string | null;
  COLOR: string | null;
  SEMANTICS: string | null;
  EXTRA?: { SEMANTICS: string; COLOR: string };
}

/** Extra or replacement status entries: ENTITY_ID → [{STATUS_ID, NAME, SEMANTICS?}]. */
export type StatusOptions = Record<string, Array<{ STATUS_ID: string; NAME: string; SEMANTICS?: 'S' | 'F' | 'P' | '' }>>;

type Row = [
  code: string,
  type: string,
  title: string,
  flags?: { ro?: boolean; req?: boolean; multi?: boolean; status?: string; deprecated?: boolean; settings?: Record<string, unknown> },
];

const STANDARD: Row[] = [
  ['ID', 'integer', 'ID', { ro: true }],
  ['TITLE', 'string', 'Lead Title', { req: true }],
  ['HONORIFIC', 'crm_status', 'Salutation', { status: 'HONORIFIC' }],
  ['NAME', 'string', 'First Name'],
  ['SECOND_NAME', 'string', 'Middle Name'],
  ['LAST_NAME', 'string', 'Last Name'],
  ['BIRTHDATE', 'date', 'Birthdate'],
  ['COMPANY_TITLE', 'string', 'Company Name'],
  ['SOURCE_ID', 'crm_status', 'Source', { status: 'SOURCE' }],
  ['SOURCE_DESCRIPTION', 'string', 'Additional Source Information'],
  ['STATUS_ID', 'crm_status', 'Stage', { status: 'STATUS' }],
  ['STATUS_DESCRIPTION', 'string', 'Additional Stage Information'],
  ['STATUS_SEMANTIC_ID', 'string', 'Status Semantic', { ro: true }],
  ['POST', 'string', 'Position'],
  ['ADDRESS', 'string', 'Address'],
  ['ADDRESS_2', 'string', 'Address (Line 2)'],
  ['ADDRESS_CITY', 'string', 'City'],
  ['ADDRESS_POSTAL_CODE', 'string', 'Postal Code'],
  ['ADDRESS_REGION', 'string', 'Region'],
  ['ADDRESS_PROVINCE', 'string', 'Province'],
  ['ADDRESS_COUNTRY', 'string', 'Country'],
  ['ADDRESS_COUNTRY_CODE', 'string', 'Country Code'],
  ['ADDRESS_LOC_ADDR_ID', 'integer', 'Location Address ID'],
  ['CURRENCY_ID', 'crm_currency', 'Currency'],
  ['OPPORTUNITY', 'double', 'Amount'],
  ['IS_MANUAL_OPPORTUNITY', 'char', 'IS_MANUAL_OPPORTUNITY'],
  ['OPENED', 'char', 'Available to All'],
  ['COMMENTS', 'string', 'Comment'],
  ['HAS_PHONE', 'char', 'Phone Provided', { ro: true }],
  ['HAS_EMAIL', 'char', 'E-mail Provided', { ro: true }],
  ['HAS_IMOL', 'char', 'Open Channel Set', { ro: true }],
  ['ASSIGNED_BY_ID', 'user', 'Responsible User'],
  ['CREATED_BY_ID', 'user', 'Created By', { ro: true }],
  ['MODIFY_BY_ID', 'user', 'Modified By', { ro: true }],
  ['MOVED_BY_ID', 'user', 'MOVED_BY_ID', { ro: true }],
  ['DATE_CREATE', 'datetime', 'Creation Date', { ro: true }],
  ['DATE_MODIFY', 'datetime', 'Modification Date', { ro: true }],
  ['MOVED_TIME', 'datetime', 'MOVED_TIME', { ro: true }],
  ['COMPANY_ID', 'crm_company', 'Company', { settings: { parentEntityTypeId: 4 } }],
  ['CONTACT_ID', 'crm_contact', 'Contact', { deprecated: true }],
  ['CONTACT_IDS', 'crm_contact', 'CONTACT_IDS', { multi: true }],
  ['IS_RETURN_CUSTOMER', 'char', 'Returning Lead', { ro: true }],
  ['DATE_CLOSED', 'datetime', 'Closing Date', { ro: true }],
  ['ORIGINATOR_ID', 'string', 'External Source ID'],
  ['ORIGIN_ID', 'string', 'Element ID in External Source'],
  ['UTM_SOURCE', 'string', 'Advertising System'],
  ['UTM_MEDIUM', 'string', 'Traffic Type'],
  ['UTM_CAMPAIGN', 'string', 'Campaign Identifier'],
  ['UTM_CONTENT', 'string', 'Campaign Content'],
  ['UTM_TERM', 'string', 'Campaign Search Condition'],
  ['LAST_ACTIVITY_TIME', 'datetime', 'LAST_ACTIVITY_TIME', { ro: true }],
  ['LAST_ACTIVITY_BY', 'user', 'LAST_ACTIVITY_BY', { ro: true }],
  ['PHONE', 'crm_multifield', 'Phone', { multi: true }],
  ['EMAIL', 'crm_multifield', 'E-mail', { multi: true }],
  ['WEB', 'crm_multifield', 'Website', { multi: true }],
  ['IM', 'crm_multifield', 'Messenger', { multi: true }],
  ['LINK', 'crm_multifield', 'LINK', { multi: true }],
];

export const MULTIFIELD_CODES = ['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK'] as const;

/** CCrmFieldMulti's full names of TYPE_VALUE-TYPE pairs (English), as CheckFields puts them into its messages. */
export const MULTIFIELD_NAMES: Record<string, string> = {
  PHONE_WORK: 'Work Phone',
  PHONE_MOBILE: 'Mobile',
  PHONE_FAX: 'Fax',
  PHONE_HOME: 'Home Phone',
  PHONE_PAGER: 'Pager Number',
  PHONE_MAILING: 'SMS marketing phone',
  PHONE_OTHER: 'Other Phone Number',
  EMAIL_WORK: 'Work E-mail',
  EMAIL_HOME: 'Home E-mail',
  EMAIL_MAILING: 'Newsletters email',
  EMAIL_OTHER: 'Other E-mail',
  WEB_WORK: 'Corporate Website',
  WEB_HOME: 'Personal Page',
  WEB_FACEBOOK: 'Facebook Page',
  WEB_VK: 'VK Page',
  WEB_LIVEJOURNAL: 'LiveJournal',
  WEB_TWITTER: 'Twitter',
  WEB_OTHER: 'Other Website',
  IM_FACEBOOK: 'Facebook account',
  IM_TELEGRAM: 'Telegram account',
  IM_VK: 'VK account',
  IM_SKYPE: 'Skype ID',
  IM_VIBER: 'Viber contact',
  IM_INSTAGRAM: 'Instagram comments',
  IM_BITRIX24: 'Bitrix24.Network account',
  IM_OPENLINE: 'Live Chat',
  IM_IMOL: 'Open Channel account',
  IM_ICQ: 'ICQ Number',
  IM_MSN: 'MSN/Live!',
  IM_JABBER: 'Jabber',
  IM_OTHER: 'Other Contact',
};

/** Default user fields: one string, one enumeration (the brief's minimum). */
export const DEFAULT_USER_FIELDS: UserFieldOption[] = [
  { code: 'UF_CRM_LOYALTY_CARD', type: 'string', label: 'Loyalty card' },
  { code: 'UF_CRM_SEGMENT', type: 'enumeration', label: 'Segment', items: ['Retail', 'Wholesale', 'Partner'] },
];

export function buildFieldMap(userFields: UserFieldOption[]): Record<string, PortalField> {
  const map: Record<string, PortalField> = {};
  for (const [code, type, title, f = {}] of STANDARD) {
    const field: PortalField = {
      type,
      isRequired: !!f.req,
      isReadOnly: !!f.ro,
      isImmutable: false,
      isMultiple: !!f.multi,
      isDynamic: false,
      title,
    };
    if (f.status) field.statusType = f.status;
    if (f.deprecated) field.isDeprecated = true;
    if (f.settings) field.settings = f.settings;
    // Key order as the portal prints it: statusType/isDeprecated before title.
    map[code] = reorder(field);
  }
  for (const uf of userFields) map[uf.code] = userFieldShape(uf);
  return map;
}

function reorder(f: PortalField): PortalField {
  const { title, settings, ...rest } = f;
  return { ...rest, title, ...(settings ? { settings } : {}) };
}

function userFieldShape(uf: UserFieldOption): PortalField {
  const label = uf.label ?? uf.code;
  const field: PortalField = {
    type: uf.type,
    isRequired: !!uf.mandatory,
    isReadOnly: false,
    isImmutable: false,
    isMultiple: !!uf.multiple,
    isDynamic: true,
    title: uf.code,
  };
  if (uf.type === 'enumeration') {
    field.settings = { DISPLAY: 'LIST', LIST_HEIGHT: 1, CAPTION_NO_VALUE: '', SHOW_NO_VALUE: 'Y' };
    field.items = enumItems(uf);
  } else if (uf.type === 'string') {
    field.settings = { SIZE: 20, ROWS: 1, REGEXP: '', MIN_LENGTH: 0, MAX_LENGTH: 0, DEFAULT_VALUE: '' };
  }
  field.listLabel = label;
  field.formLabel = label;
  field.filterLabel = label;
  return field;
}

export function enumItems(uf: UserFieldOption): { ID: string; VALUE: string }[] {
  // Item IDs are global on a real portal; offset per field so two enumerations never share IDs.
  const base = 40 + (hash(uf.code) % 900);
  return (uf.items ?? []).map((it, i) =>
    typeof it === 'string' ? { ID: String(base + i), VALUE: it } : { ID: String(it.ID), VALUE: it.VALUE },
  );
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}

const DEFAULT_STATUSES: StatusOptions = {
  STATUS: [
    { STATUS_ID: 'NEW', NAME: 'Unassigned', SEMANTICS: '' },
    { STATUS_ID: 'IN_PROCESS', NAME: 'In Progress', SEMANTICS: '' },
    { STATUS_ID: 'PROCESSED', NAME: 'Processed', SEMANTICS: '' },
    { STATUS_ID: 'CONVERTED', NAME: 'Good lead', SEMANTICS: 'S' },
    { STATUS_ID: 'JUNK', NAME: 'Junk lead', SEMANTICS: 'F' },
  ],
  SOURCE: [
    { STATUS_ID: 'CALL', NAME: 'Call' },
    { STATUS_ID: 'EMAIL', NAME: 'E-Mail' },
    { STATUS_ID: 'WEB', NAME: 'Website' },
    { STATUS_ID: 'ADVERTISING', NAME: 'Advertising' },
    { STATUS_ID: 'PARTNER', NAME: 'Existing client' },
    { STATUS_ID: 'RECOMMENDATION', NAME: 'By recommendation' },
    { STATUS_ID: 'TRADE_SHOW', NAME: 'Show/Exhibition' },
    { STATUS_ID: 'WEBFORM', NAME: 'CRM form' },
    { STATUS_ID: 'CALLBACK', NAME: 'Callback' },
    { STATUS_ID: 'RC_GENERATOR', NAME: 'Sales boost' },
    { STATUS_ID: 'STORE', NAME: 'Online Store' },
    { STATUS_ID: 'OTHER', NAME: 'Other' },
  ],
  HONORIFIC: [
    { STATUS_ID: 'HNR_EN_1', NAME: 'Mr.' },
    { STATUS_ID: 'HNR_EN_2', NAME: 'Mrs.' },
    { STATUS_ID: 'HNR_EN_3', NAME: 'Ms.' },
    { STATUS_ID: 'HNR_EN_4', NAME: 'Dr.' },
  ],
};

const STAGE_COLORS: Record<string, string> = { '': '#39A8EF', S: '#7BD500', F: '#FF5752' };

/**
 * The crm.status.list rows. `custom` entries for an ENTITY_ID are added after the defaults; custom lead
 * stages go before the final ones (CONVERTED, JUNK) as on a real portal.
 */
export function buildStatuses(custom: StatusOptions = {}): StatusEntry[] {
  const rows: StatusEntry[] = [];
  let id = 1;
  const entities = new Set([...Object.keys(DEFAULT_STATUSES), ...Object.keys(custom)]);
  for (const entity of entities) {
    const defaults = DEFAULT_STATUSES[entity] ?? [];
    const extra = (custom[entity] ?? []).filter((c) => !defaults.some((d) => d.STATUS_ID === c.STATUS_ID));
    let list = [...defaults];
    if (entity === 'STATUS') {
      const finals = list.filter((s) => s.SEMANTICS === 'S' || s.SEMANTICS === 'F');
      list = [...list.filter((s) => !finals.includes(s)), ...extra, ...finals];
    } else {
      list = [...list, ...extra];
    }
    list.forEach((s, i) => {
      const isStage = entity === 'STATUS';
      const sem = s.SEMANTICS ?? '';
      const entry: StatusEntry = {
        ID: String(id++),
        ENTITY_ID: entity,
        STATUS_ID: s.STATUS_ID,
        NAME: s.NAME,
        NAME_INIT: defaults.includes(s) ? s.NAME : '',
        SORT: String((i + 1) * 10),
        SYSTEM: defaults.includes(s) && (!isStage || s.STATUS_ID === 'NEW' || sem !== '') ? 'Y' : 'N',
        CATEGORY_ID: null,
        COLOR: isStage ? (STAGE_COLORS[sem] ?? '#39A8EF') : null,
        SEMANTICS: isStage ? (sem === '' ? null : sem) : null,
      };
      if (isStage) entry.EXTRA = { SEMANTICS: sem === 'S' ? 'success' : sem === 'F' ? 'failure' : 'process', COLOR: entry.COLOR ?? '' };
      rows.push(entry);
    });
  }
  return rows;
}

/** A currency of the sandbox portal, as crm.currency.list prints it (docs crm_currency; FULL_NAME in the request's language). */
export interface CurrencyEntry {
  CURRENCY: string;
  AMOUNT_CNT: number;
  AMOUNT: number;
  BASE: 'Y' | 'N';
  SORT: number;
  FULL_NAME: string;
  LID: string;
  FORMAT_STRING: string;
  DEC_POINT: string;
  THOUSANDS_SEP: string;
  DECIMALS: number;
}

/** Currencies of a Russian portal (base RUB), names in its language (ru). */
export const DEFAULT_CURRENCIES: CurrencyEntry[] = [
  currency('RUB', 1, 'Y', 100, 'Российский рубль', '# руб.'),
  currency('USD', 90, 'N', 200, 'Доллар США', '$#'),
  currency('EUR', 98, 'N', 300, 'Евро', '#€'),
  currency('UAH', 2.2, 'N', 400, 'Гривна', '# грн.'),
  currency('BYN', 28, 'N', 500, 'Белорусский рубль', '# руб.'),
];

function currency(code: string, amount: number, base: 'Y' | 'N', sort: number, name: string, format: string): CurrencyEntry {
  return {
    CURRENCY: code,
    AMOUNT_CNT: 1,
    AMOUNT: amount,
    BASE: base,
    SORT: sort,
    FULL_NAME: name,
    LID: 'ru',
    FORMAT_STRING: format,
    DEC_POINT: '.',
    THOUSANDS_SEP: ' ',
    DECIMALS: 2,
  };
}

/** A user of the sandbox portal, as user.get prints it (the fields an import matches on, plus ACTIVE). */
export interface UserEntry {
  ID: string;
  ACTIVE: boolean;
  NAME: string;
  LAST_NAME: string;
  SECOND_NAME: string;
  EMAIL: string;
}

/** The portal's users: the webhook's admin and a few employees, two of them namesakes. */
export const DEFAULT_USERS: UserEntry[] = [
  user(1, 'Админ', 'Портала', 'admin@example.com'),
  user(5, 'Анна', 'Петрова', 'anna.petrova@example.com'),
  user(7, 'Иван', 'Смирнов', 'ivan.smirnov@example.com'),
  user(9, 'Иван', 'Смирнов', 'i.smirnov@example.com'),
  user(12, 'John', 'Doe', 'john.doe@example.com'),
  { ...user(13, 'Fired', 'Person', 'fired@example.com'), ACTIVE: false },
];

function user(id: number, name: string, last: string, email: string): UserEntry {
  return { ID: String(id), ACTIVE: true, NAME: name, LAST_NAME: last, SECOND_NAME: '', EMAIL: email };
}

/** The methods this catalogue answers besides crm.lead.fields and crm.status.list (for routing and 404s). */
export const CATALOGUE_METHODS: readonly string[] = ['crm.currency.list', 'user.get'];

/** What a catalogue method answers: `result`, plus `total`/`next` for user.get's pages of 50. */
export interface CatalogueAnswer {
  result: unknown;
  total?: number;
  next?: number;
}

/**
 * crm.currency.list (every currency, by SORT) and user.get (FILTER / filter on ACTIVE, ID, EMAIL, NAME,
 * LAST_NAME, exact; pages of 50 by `start`; sorted by ID). Unknown methods are undefined (the caller's 404).
 */
export function catalogueCall(
  method: string,
  params: Record<string, unknown>,
  data: { currencies: readonly CurrencyEntry[]; users: readonly UserEntry[] },
): CatalogueAnswer | undefined {
  if (method === 'crm.currency.list') return { result: [...data.currencies].sort((a, b) => a.SORT - b.SORT).map((c) => ({ ...c })) };
  if (method !== 'user.get') return undefined;
  const filter = (params.FILTER ?? params.filter ?? {}) as Record<string, unknown>;
  const start = Math.max(0, Number.parseInt(String(params.start ?? 0), 10) || 0);
  const rows = data.users
    .filter((u) => Object.entries(filter).every(([k, v]) => matchesUser(u, k, v)))
    .sort((a, b) => Number(a.ID) - Number(b.ID));
  const out: CatalogueAnswer = { result: rows.slice(start, start + 50).map((u) => ({ ...u })), total: rows.length };
  if (start + 50 < rows.length) out.next = start + 50;
  return out;
}

function matchesUser(u: UserEntry, key: string, want: unknown): boolean {
  const have = (u as unknown as Record<string, unknown>)[key.toUpperCase()];
  if (key.toUpperCase() === 'ACTIVE') return String(have) === String(want === 'Y' || want === true || want === 'true' || want === '1');
  return String(have ?? '').toLowerCase() === String(want ?? '').toLowerCase();
}
