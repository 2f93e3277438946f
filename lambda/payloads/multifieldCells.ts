import type { LeadFields, MultifieldValue } from '../types.ts';
import { parseEmail, parsePhone, parseUrl, parseWebOrHandle } from './values/contacts.ts';
import { OPEN_CHANNEL_REASON, isOpenChannelValue } from './openChannel.ts';
import { quote } from './quote.ts';
import { Bad, type CellValue, listOf, type Parser, parseString, SEPARATOR } from './values/parser.ts';

/**
 * The parser of a whole multifield cell: its `|`-separated values (phones and e-mails also `, `-separated, as the
 * portal's own export joins them), each checked by multifieldParser. An IM cell
 * holding an Open Channel binding as exported (`imol|livechat|1|…`) is refused whole: split at its `|` it would
 * add junk handles, and as a binding it is the portal's, not the file's.
 */
export function multifieldCellParser(code: string, valueType: string): (v: string) => CellValue | Bad {
  const values = listOf(multifieldParser(code, valueType), valueSeparator(code));
  if (code !== 'IM') return values;
  return (v) => (isOpenChannelValue(v) ? new Bad(`${quote(v)} is an Open Channel binding: ${OPEN_CHANNEL_REASON}`) : values(v));
}

/**
 * A phone never holds a comma and an e-mail address cannot hold a bare one, so both split at `,` too (a comma
 * before an extension, `+7 912 345-67-89, доб. 123`, stays with its number). URLs and IM handles may hold
 * commas: only `|` splits them.
 */
const PHONE_SEPARATOR = /\||,(?!\s*(?:доб|ext|x\s*\d|#))/iu;
const EMAIL_SEPARATOR = /[|,]/;

function valueSeparator(code: string): string | RegExp {
  if (code === 'PHONE') return PHONE_SEPARATOR;
  return code === 'EMAIL' ? EMAIL_SEPARATOR : SEPARATOR;
}

/** The parser for one value of a multifield column (`PHONE` + `MOBILE`…), the portal's length limit included. */
export function multifieldParser(code: string, valueType: string): Parser {
  return withinLimit(shapeParser(code, valueType));
}

function shapeParser(code: string, valueType: string): Parser {
  switch (code) {
    case 'PHONE':
      return parsePhone;
    case 'EMAIL':
      return parseEmail;
    case 'WEB':
      return valueType === 'VK' || valueType === 'TWITTER' || valueType === 'LIVEJOURNAL' ? parseWebOrHandle : parseUrl;
    default:
      return parseString; // IM handles have no common shape
  }
}

/** CCrmLead::CheckFields refuses the whole update when a multifield VALUE is over 250 characters. */
const MAX_VALUE_CHARS = 250;

function withinLimit(parse: Parser): Parser {
  return (v) => {
    const r = parse(v);
    if (r instanceof Bad) return r;
    const chars = [...String(r)].length;
    if (chars <= MAX_VALUE_CHARS) return r;
    return new Bad(`the value is ${chars} characters; the portal takes at most ${MAX_VALUE_CHARS} (it would refuse the whole update)`);
  };
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
