import type { RunOptions } from '../config.ts';
import type { FieldSpec } from '../types.ts';
import { parseTitle } from './titleCell.ts';
import { currencyParser, enumParser, statusParser, userParser } from './values/codes.ts';
import { parseUrl } from './values/contacts.ts';
import { dateParser, dateTimeParser } from './values/dates.ts';
import { idParser } from './values/ids.ts';
import { doubleParser, parseInteger } from './values/numbers.ts';
import { type Parser, parseString, SEPARATOR } from './values/parser.ts';
import { parseBoolean, parseChar } from './values/yesNo.ts';

/** Multiple fields of these types take several `|`-separated values in one cell. */
const SPLITTABLE = new Set([
  'string',
  'enumeration',
  'integer',
  'double',
  'char',
  'boolean',
  'date',
  'datetime',
  'url',
  'crm_status',
  'crm_currency',
  'user',
  'employee',
  'crm_company',
  'crm_contact',
]);

/** Whether a multiple field of this type is split into values; other types (money, file…) pass through whole. */
export function isSplittable(type: string): boolean {
  return SPLITTABLE.has(type);
}

/** Whether a column of this field takes several values in one cell. */
export function splitsValues(spec: Pick<FieldSpec, 'type' | 'multiple'>): boolean {
  return spec.multiple === true && isSplittable(spec.type);
}

/** The run options that change how a value is read: the decimal mark of amounts, the order of slash dates. */
export type ValueOptions = Pick<RunOptions, 'decimalMark' | 'dateOrder'>;

/** What a file means when the run says nothing: marks and slash dates are read only when unambiguous. */
export const DEFAULT_VALUE_OPTIONS: ValueOptions = { decimalMark: 'auto', dateOrder: 'auto' };

/** Field types whose parser depends on ValueOptions. */
export function readsWithOptions(type: string): boolean {
  return type === 'double' || type === 'date' || type === 'datetime';
}

/** What separates the values of a multiple field: CONTACT_IDS and the like also take commas, semicolons or spaces. */
export function listSeparator(type: string): string | RegExp {
  return isIdType(type) ? ID_LIST_SEPARATOR : SEPARATOR;
}

const ID_LIST_SEPARATOR = /[|,;\s]+/;

function isIdType(type: string): boolean {
  return type === 'user' || type === 'crm_company' || type === 'crm_contact' || type === 'employee';
}

const ID_NOUNS: Record<string, string> = {
  user: 'a user ID',
  employee: 'a user ID',
  crm_company: 'a company ID',
  crm_contact: 'a contact ID',
};

/** The parser for one value of a (non-multifield) field, by its type; `parseString` for types we do not check. */
export function scalarParser(spec: FieldSpec, values: ValueOptions = DEFAULT_VALUE_OPTIONS): Parser {
  if (spec.items && spec.items.length > 0) return enumParser(spec.items);
  switch (spec.type) {
    case 'user':
    case 'employee':
      // A name or e-mail maps to the user's ID through the portal's user list, when the preflight loaded it.
      return userParser(spec.users, idParser(ID_NOUNS[spec.type]));
    case 'crm_company':
    case 'crm_contact':
      return idParser(ID_NOUNS[spec.type]);
    case 'integer':
      return spec.code.startsWith('UF_') ? parseInteger : idParser('an ID');
    case 'double':
      // One value of a (multiple) custom double; single amounts, OPPORTUNITY first, are read by amountCell.ts.
      return doubleParser(values.decimalMark);
    case 'char':
      return parseChar;
    case 'boolean':
      return parseBoolean;
    case 'date':
      return dateParser(values.dateOrder);
    case 'datetime':
      return dateTimeParser(values.dateOrder);
    case 'crm_status':
      return statusParser(spec.code, spec.statusCodes, spec.statusNames);
    case 'crm_currency':
      return currencyParser(spec.currencies);
    case 'url':
      return parseUrl;
    default:
      return spec.code === 'TITLE' ? parseTitle : parseString;
  }
}
