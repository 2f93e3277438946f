import type { Catalogue, FieldSpec } from '../types.ts';

/**
 * The built-in lead field catalogue: every field of the crm.lead.update seed table with its documented
 * type, plus the fields crm.lead.fields marks `isReadOnly` (so a column for them is refused with a clear
 * reason instead of being "unknown"). Used offline; the portal preflight builds a richer one.
 */

/**
 * Multifield VALUE_TYPEs accepted per type: CCrmFieldMulti::GetEntityTypes() in the crm module's server code,
 * which is what the portal checks and what its own import sample and export columns use (the docs' data-types
 * page lists only some: WEB FACEBOOK, IM FACEBOOK and INSTAGRAM are there, VK and the rest are not). The portal's
 * crm.status.list has no multifield lists (they are not crm_status directories), so this table is the source.
 * IM OPENLINE and IMOL are Open Channel bindings (never written); LINK only knows USER.
 */
export const MULTIFIELD_VALUE_TYPES: Record<'PHONE' | 'EMAIL' | 'WEB' | 'IM' | 'LINK', readonly string[]> = {
  PHONE: ['WORK', 'MOBILE', 'FAX', 'HOME', 'PAGER', 'MAILING', 'OTHER'],
  EMAIL: ['WORK', 'HOME', 'MAILING', 'OTHER'],
  WEB: ['WORK', 'HOME', 'FACEBOOK', 'VK', 'LIVEJOURNAL', 'TWITTER', 'OTHER'],
  IM: ['FACEBOOK', 'TELEGRAM', 'VK', 'SKYPE', 'VIBER', 'INSTAGRAM', 'BITRIX24', 'OPENLINE', 'IMOL', 'ICQ', 'MSN', 'JABBER', 'OTHER'],
  LINK: ['USER'],
};

/** Same table under the name docs/design.md uses. */
export const MULTIFIELD_TYPES = MULTIFIELD_VALUE_TYPES;

export type MultifieldType = keyof typeof MULTIFIELD_VALUE_TYPES;

/**
 * VALUE_TYPE meant by a bare multifield column (`PHONE`, `EMAIL`…). IM has no WORK type in the docs,
 * so a bare `IM` column means OTHER; LINK only knows USER.
 */
export const DEFAULT_VALUE_TYPE: Record<MultifieldType, string> = {
  PHONE: 'WORK',
  EMAIL: 'WORK',
  WEB: 'WORK',
  IM: 'OTHER',
  LINK: 'USER',
};

export function isMultifieldType(code: string): code is MultifieldType {
  return Object.hasOwn(MULTIFIELD_VALUE_TYPES, code);
}

/** The address parts the seed page says to send together. */
export const ADDRESS_FIELDS: readonly string[] = [
  'ADDRESS',
  'ADDRESS_2',
  'ADDRESS_CITY',
  'ADDRESS_POSTAL_CODE',
  'ADDRESS_REGION',
  'ADDRESS_PROVINCE',
  'ADDRESS_COUNTRY',
  'ADDRESS_COUNTRY_CODE',
];

/**
 * Fields crm.lead.get / crm.lead.list never return (no such column in CCrmLead::GetFields; bitrix24-api.md,
 * corrections §11), so a read cannot tell whether they differ. CONTACT_IDS replaces all contact bindings on
 * write, so sending the same list again changes nothing.
 */
export const WRITE_ONLY_FIELDS: ReadonlySet<string> = new Set(['CONTACT_IDS']);

/** Custom field codes accepted offline (any UF_CRM_… when the portal is not asked). */
export const UF_CODE = /^UF_CRM_[A-Z0-9_]+$/;

type Row = [code: string, type: string, extra?: Partial<FieldSpec>];

/** The seed page's field table (crm-lead-update.md), in its order. */
const WRITABLE: Row[] = [
  ['ADDRESS', 'string'],
  ['ADDRESS_2', 'string'],
  ['ADDRESS_CITY', 'string'],
  ['ADDRESS_COUNTRY', 'string'],
  ['ADDRESS_COUNTRY_CODE', 'string'],
  ['ADDRESS_POSTAL_CODE', 'string'],
  ['ADDRESS_PROVINCE', 'string'],
  ['ADDRESS_REGION', 'string'],
  ['ASSIGNED_BY_ID', 'user'],
  ['BIRTHDATE', 'date'],
  ['COMMENTS', 'string'],
  ['COMPANY_ID', 'crm_company'],
  ['COMPANY_TITLE', 'string'],
  ['CONTACT_ID', 'crm_contact'],
  ['CONTACT_IDS', 'crm_contact', { multiple: true }],
  ['CURRENCY_ID', 'crm_currency'],
  ['EMAIL', 'crm_multifield', { multiple: true }],
  ['HONORIFIC', 'crm_status', { statusType: 'HONORIFIC' }],
  ['IM', 'crm_multifield', { multiple: true }],
  ['LINK', 'crm_multifield', { multiple: true }],
  ['LAST_NAME', 'string'],
  ['NAME', 'string'],
  ['OPENED', 'char'],
  ['OPPORTUNITY', 'double'],
  ['IS_MANUAL_OPPORTUNITY', 'char'],
  ['ORIGINATOR_ID', 'string'],
  ['ORIGIN_ID', 'string'],
  ['PHONE', 'crm_multifield', { multiple: true }],
  ['POST', 'string'],
  ['SECOND_NAME', 'string'],
  ['SOURCE_DESCRIPTION', 'string'],
  ['SOURCE_ID', 'crm_status', { statusType: 'SOURCE' }],
  ['STATUS_DESCRIPTION', 'string'],
  ['STATUS_ID', 'crm_status', { statusType: 'STATUS' }],
  ['TITLE', 'string'],
  ['UTM_CAMPAIGN', 'string'],
  ['UTM_CONTENT', 'string'],
  ['UTM_MEDIUM', 'string'],
  ['UTM_SOURCE', 'string'],
  ['UTM_TERM', 'string'],
  ['WEB', 'crm_multifield', { multiple: true }],
];

/** isReadOnly: true in crm.lead.fields (b24restdocs api-reference/crm/leads/crm-lead-fields.md). ID is the key. */
const READ_ONLY: Row[] = [
  ['ID', 'integer'],
  ['STATUS_SEMANTIC_ID', 'string'],
  ['HAS_PHONE', 'char'],
  ['HAS_EMAIL', 'char'],
  ['HAS_IMOL', 'char'],
  ['CREATED_BY_ID', 'user'],
  ['MODIFY_BY_ID', 'user'],
  ['MOVED_BY_ID', 'user'],
  ['DATE_CREATE', 'datetime'],
  ['DATE_MODIFY', 'datetime'],
  ['MOVED_TIME', 'datetime'],
  ['IS_RETURN_CUSTOMER', 'char'],
  ['DATE_CLOSED', 'datetime'],
  ['LAST_ACTIVITY_TIME', 'datetime'],
  ['LAST_ACTIVITY_BY', 'user'],
];

/**
 * A fresh catalogue of the built-in fields (callers may extend it), `fromPortal: false`.
 * @example standardCatalogue().fields.get('OPPORTUNITY') // { code: 'OPPORTUNITY', type: 'double' }
 */
export function standardCatalogue(): Catalogue {
  const fields = new Map<string, FieldSpec>();
  for (const [code, type, extra] of WRITABLE) fields.set(code, { code, type, ...extra });
  for (const [code, type] of READ_ONLY) fields.set(code, { code, type, readOnly: true });
  return { fields, fromPortal: false };
}
