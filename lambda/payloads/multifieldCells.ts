import type { LeadFields, MultifieldValue } from '../types.ts';
import { parseEmail, parsePhone, parseUrl, parseWebOrHandle } from './values/contacts.ts';
import { type Parser, parseString } from './values/parser.ts';

/** The parser for one value of a multifield column (`PHONE` + `MOBILE`…). */
export function multifieldParser(code: string, valueType: string): Parser {
  switch (code) {
    case 'PHONE':
      return parsePhone;
    case 'EMAIL':
      return parseEmail;
    case 'WEB':
      return valueType === 'VK' || valueType === 'TWITTER' || valueType === 'LIVEJOURNAL' ? parseWebOrHandle : parseUrl;
    default:
      return parseString; // IM handles and LINK values have no common shape
  }
}

/**
 * Appends a multifield cell's values to the field's list, each with the column's VALUE_TYPE: several columns
 * (PHONE_MOBILE, PHONE_WORK) add to one PHONE list.
 */
export function addMultifieldValues(fields: LeadFields, code: string, valueType: string, values: readonly string[]): void {
  let list = fields[code] as MultifieldValue[] | undefined;
  if (list === undefined) {
    list = [];
    fields[code] = list;
  }
  for (const value of values) list.push({ VALUE: value, VALUE_TYPE: valueType });
}
