import { quote } from '../quote.ts';
import { Bad, type Parser } from './parser.ts';

const YES = new Set(['y', 'yes', 'true', '1', 'да']);
const NO = new Set(['n', 'no', 'false', '0', 'нет']);

/** char Y/N fields: y/n, yes/no, true/false, 1/0 (any case) → Y/N. */
export const parseChar: Parser = (v) => {
  if (v === 'Y' || v === 'N') return v;
  const l = v.toLowerCase();
  if (YES.has(l)) return 'Y';
  if (NO.has(l)) return 'N';
  return new Bad(`${quote(v)} is not Y or N (also accepted: yes/no, true/false, 1/0)`);
};

/** Custom boolean fields: the same spellings → 1/0, as user fields store them. */
export const parseBoolean: Parser = (v) => {
  const l = v.toLowerCase();
  if (YES.has(l)) return 1;
  if (NO.has(l)) return 0;
  return new Bad(`${quote(v)} is not yes or no (accepted: Y/N, yes/no, true/false, 1/0)`);
};
