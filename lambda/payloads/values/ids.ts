import { quote } from '../quote.ts';
import { Bad, type Parser } from './parser.ts';

export const MAX_ID = 2147483647;

const DIGITS = /^\d+$/;

/** Positive 32-bit ids (lead, user, company, contact): strict, because the portal casts "12abc" to 12. */
export function idParser(noun: string): Parser {
  return (v) => {
    if (DIGITS.test(v) && v.length <= 12) {
      const n = Number(v);
      if (n >= 1 && n <= MAX_ID) return n;
    }
    return new Bad(`${quote(v)} is not ${noun}: ${idReason(v)}`);
  };
}

function idReason(v: string): string {
  if (/^[+-]?\d+$/.test(v)) {
    if (v.startsWith('-') || /^[+-]?0+$/.test(v)) return 'IDs are positive whole numbers';
    if (v.startsWith('+')) return 'write the number without a sign';
    return `too large (the largest ID is ${MAX_ID})`;
  }
  if (/^[+-]?\d*[.,]\d+$/.test(v) || /^[+-]?\d+[.,]\d*$/.test(v)) return 'IDs are whole numbers';
  return 'not a number';
}
