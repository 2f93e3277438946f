import { quote } from '../quote.ts';
import { Bad, type Parser } from './parser.ts';

const INTEGER = /^[+-]?\d+$/;

/** Custom integer fields: any whole number in the safe range. */
export const parseInteger: Parser = (v) => {
  if (INTEGER.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    return new Bad(`${quote(v)} is too large for a whole number`);
  }
  return new Bad(`${quote(v)} is not a whole number`);
};

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$/;
const SPACE_GROUPED = /^[+-]?\d{1,3}(?:[ \u00A0\u202F\u2009]\d{3})+(?:[.,]\d+)?$/;
/** 1,234,567 or 1,234.56 (English Excel). A lone "1,234" is a decimal comma (Russian Excel), see PLAIN_NUMBER. */
const COMMA_GROUPED = /^[+-]?\d{1,3}(?:(?:,\d{3}){2,}(?:\.\d+)?|,\d{3}\.\d+)$/;
/** 1.234.567 or 1.234,56 (German/Russian with dot groups). */
const DOT_GROUPED = /^[+-]?\d{1,3}(?:(?:\.\d{3}){2,}(?:,\d+)?|\.\d{3},\d+)$/;

/**
 * Amounts: `1234.56`, `1234,56`, `1 234,56` (space, nbsp or narrow nbsp groups as Russian Excel writes),
 * `1,234.56`, `1.234,56`. Normalised to a number.
 */
export const parseDouble: Parser = (v) => {
  let s: string | undefined;
  if (PLAIN_NUMBER.test(v)) s = v.includes(',') ? v.replace(',', '.') : v;
  else if (SPACE_GROUPED.test(v)) s = v.replace(/[ \u00A0\u202F\u2009]/g, '').replace(',', '.');
  else if (COMMA_GROUPED.test(v)) s = v.replace(/,/g, '');
  else if (DOT_GROUPED.test(v)) s = v.replace(/\./g, '').replace(',', '.');
  if (s !== undefined) {
    const n = Number(s);
    if (Number.isFinite(n)) return n;
  }
  return new Bad(`${quote(v)} is not a number`);
};

/** What CCrmLead::CheckFields takes for OPPORTUNITY; anything else refuses the whole update. */
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * OPPORTUNITY: an amount as parseDouble reads it, refused unless the number travels as a plain decimal. The
 * batch encoder prints numbers with String(), which writes 1e+21 and 1e-7 in exponent form: the portal would
 * refuse those. -0 goes as 0.
 */
export const parseOpportunity: Parser = (v) => {
  const n = parseDouble(v);
  if (n instanceof Bad) return n;
  const amount = n === 0 ? 0 : n;
  if (PLAIN_DECIMAL.test(String(amount))) return amount;
  return new Bad(
    `${quote(v)} cannot be sent as a plain decimal (it would travel as ${String(amount)}; the portal takes amounts like 1234.56 and would refuse the whole update)`,
  );
};
